/** Process entry: config from the environment, the native-binary guard, signals, exit codes. */
import { startNode } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './gateway/logger.js';
import { NativeBinaryError, loadNativeUws } from './gateway/uws.js';

function fatal(message: string): never {
  process.stderr.write(`livegate: ${message}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) fatal(`invalid configuration: ${err.message}`);
    throw err;
  }
  let uws;
  try {
    uws = loadNativeUws();
  } catch (err) {
    if (err instanceof NativeBinaryError) fatal(err.message);
    throw err;
  }
  const log = createLogger(config.logLevel, config.nodeId);
  const node = await startNode(config, uws, log);

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => {
      log.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown timed out; exiting anyway');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    deadline.unref();
    node.shutdown().then(
      () => {
        log.info('shutdown complete');
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => fatal(err instanceof Error ? (err.stack ?? err.message) : String(err)));
