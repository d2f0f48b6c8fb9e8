/** docker-compose's nginx entry point in front of test gateways. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { ROOT, freePort } from './services.js';

const NGINX = '/usr/sbin/nginx';

/**
 * docker-compose's entry point, deploy/nginx/nginx.conf as it is, run by Debian's nginx in front of
 * two real gateway nodes: only the upstream addresses and the listen port are put in for the test.
 */
export async function startEntry(upstreams: [number, number]): Promise<{ port: number; process: ChildProcess; dir: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'livegate-nginx-'));
  mkdirSync(join(dir, 'logs'));
  const port = await freePort();
  const conf = readFileSync(join(ROOT, 'deploy', 'nginx', 'nginx.conf'), 'utf8');
  const rendered = conf
    .replace('server gateway-1:8080', `server 127.0.0.1:${upstreams[0]}`)
    .replace('server gateway-2:8080', `server 127.0.0.1:${upstreams[1]}`)
    .replace('listen 8080;', `listen 127.0.0.1:${port};`);
  expect(rendered).not.toContain('gateway-');
  writeFileSync(join(dir, 'nginx.conf'), rendered);
  const child = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', `daemon off; pid ${join(dir, 'nginx.pid')}; error_log stderr warn;`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  // nginx has no ready line: the port answers once the workers run.
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}: ${stderr}`);
    const ok = await fetch(`http://127.0.0.1:${port}/nginx-health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    process: child,
    dir,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGQUIT');
      await exited;
    },
  };
}
