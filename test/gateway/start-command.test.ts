import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { sioConnect, sioConnected } from '../support/clients.js';
import { makeToken } from '../support/gateway.js';
import { ROOT } from '../support/services.js';

/**
 * The README's first command: one node, in-process bus, a local database started by the script.
 * (The suite has built dist/ already; rebuilding here would rewrite files other tests are loading.)
 */
describe('npm start (scripts/start.sh)', () => {
  it('starts FerretDB and the gateway; socket.io-client gets session:info; SIGTERM stops both', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'livegate-start-'));
    const child = spawn('bash', [join(ROOT, 'scripts', 'start.sh')], {
      env: { PATH: process.env['PATH'], HOME: process.env['HOME'], PORT: '0', HOST: '127.0.0.1', LIVEGATE_DATA_DIR: dataDir, LIVEGATE_SKIP_BUILD: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const port = await new Promise<number>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`start.sh exited with ${code}: ${stderr}`)));
      createInterface({ input: child.stdout }).on('line', (line) => {
        if (line.includes('"msg":"listening"')) resolve((JSON.parse(line) as { port: number }).port);
      });
    });
    expect(stderr).toContain('JWT_SECRET not set; using the development secret');
    expect(stderr).toMatch(/FerretDB \(local database\) at mongodb:\/\/127\.0\.0\.1:\d+/);

    const token = await makeToken({ sub: 'first-user', secret: 'livegate-development-secret-change-me-0123456789' });
    const socket = sioConnect(`http://127.0.0.1:${port}`, { token });
    await sioConnected(socket);
    expect(await socket.emitWithAck('session:info', {})).toMatchObject({ userId: 'first-user' });
    socket.close();
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);
    const ready = (await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()) as { checks: Record<string, boolean> };
    expect(ready.checks['mongodb']).toBe(true);

    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
  }, 180_000);
});
