/** Process entry: config from the environment, the native-binary guard, signals, exit codes. */
import { startNode, type Node } from './app.js';
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
  const cfg = config;
  let node: Node | undefined;
  let fatalError: Error | undefined;
  let stopping = false;
  const stop = (running: Node, signal: string): void => {
    if (stopping) return;
    stopping = true;
    const exitCode = fatalError ? 1 : 0;
    log.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => {
      log.error({ timeoutMs: cfg.shutdownTimeoutMs }, 'shutdown timed out; exiting anyway');
      process.exit(1);
    }, cfg.shutdownTimeoutMs);
    deadline.unref();
    running.shutdown().then(
      () => {
        log.info('shutdown complete');
        process.exit(exitCode);
      },
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  // A fatal condition (logged by whoever found it) found while starting exits at once; once the
  // node serves, it shuts down cleanly and exits with code 1.
  const onFatal = (err: Error): void => {
    fatalError = err;
    if (!node) fatal(err.message);
    process.stderr.write(`livegate: ${err.message}\n`);
    stop(node, 'fatal');
  };
  const running = await startNode(config, uws, log, onFatal);
  node = running;
  if (fatalError) fatal(fatalError.message);
  process.on('SIGTERM', () => stop(running, 'SIGTERM'));
  process.on('SIGINT', () => stop(running, 'SIGINT'));
}

main().catch((err: unknown) => fatal(err instanceof Error ? (err.stack ?? err.message) : String(err)));
