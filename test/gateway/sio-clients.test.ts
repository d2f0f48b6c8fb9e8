/**
 * The Socket.IO clients of other platforms, as their packages ship them, against one livegate node:
 * python-socketio (PyPI, backend scripts) and the Java client io.socket:socket.io-client 2.1
 * (Maven Central, Android apps). scripts/deps.sh installs both under .tools/ (the test command
 * runs it). Each runs test/clients/<lang>/ and reports its steps as JSON lines.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, api } from '../bridge/helpers.js';
import { makeToken, startGateway, type GatewayProcess } from '../support/gateway.js';
import { ROOT } from '../support/services.js';

interface Step {
  step: string;
  [field: string]: unknown;
}

interface ClientSpec {
  name: string;
  /** What scripts/deps.sh installs; the test fails (never skips) when it is missing. */
  installed: string;
  command(url: string, token: string): [string, string[]];
  /** The reason its disconnect handler is given on a server DISCONNECT. */
  kickedReason: string;
}

const JAVA_DIR = `${ROOT}/.tools/sio-java`;

const CLIENTS: ClientSpec[] = [
  {
    name: 'python-socketio 5',
    installed: `${ROOT}/.tools/sio-python/bin/python`,
    command: (url, token) => [`${ROOT}/.tools/sio-python/bin/python`, [`${ROOT}/test/clients/python/sio_scenario.py`, url, token]],
    kickedReason: 'server disconnect',
  },
  {
    name: 'Java io.socket:socket.io-client 2.1',
    installed: `${JAVA_DIR}/classpath.txt`,
    command: (url, token) => [
      'java',
      ['-cp', `${JAVA_DIR}/target/classes:${readFileSync(`${JAVA_DIR}/classpath.txt`, 'utf8').trim()}`, 'livegate.SioScenario', url, token],
    ],
    kickedReason: 'io server disconnect',
  },
];

/** A client process and the steps it printed, awaited by name. */
class Scenario {
  private readonly steps: Step[] = [];
  private readonly waiters: Array<{ name: string; resolve: (s: Step) => void }> = [];
  private stderr = '';
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (text) => {
      if (!text.startsWith('{')) return;
      const step = JSON.parse(text) as Step;
      this.steps.push(step);
      for (const w of this.waiters.filter((w) => w.name === step.step)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(step);
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  step(name: string, timeoutMs = 30_000): Promise<Step> {
    const found = this.steps.find((s) => s.step === name);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no step ${name} in ${timeoutMs} ms; steps: ${JSON.stringify(this.steps)}; stderr: ${this.stderr.slice(-2000)}`)),
        timeoutMs,
      );
      this.waiters.push({
        name,
        resolve: (s) => {
          clearTimeout(timer);
          resolve(s);
        },
      });
      void this.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`client exited (${code}) before step ${name}; steps: ${JSON.stringify(this.steps)}; stderr: ${this.stderr.slice(-2000)}`));
      });
    });
  }

  errors(): Step[] {
    return this.steps.filter((s) => s.step === 'error');
  }
}

describe.each(CLIENTS)('$name against livegate', (client) => {
  let gw: GatewayProcess;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    gw = await startGateway({ SERVICE_API_KEYS: API_KEY });
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await gw.stop();
  });

  it('connects, emits with an ack, gets a one-argument room event with exactly its data, round-trips binary, and stays disconnected when kicked', async () => {
    expect(existsSync(client.installed), `${client.installed} missing: run bash scripts/deps.sh sio-clients`).toBe(true);
    const user = `sio-${client.name.split(' ')[0]!.toLowerCase()}-${process.pid}`;
    const [cmd, args] = client.command(gw.http, await makeToken({ sub: user }));
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    const run = new Scenario(child);

    await run.step('connected');
    expect((await run.step('ack'))['data']).toMatchObject({ userId: user, nodeId: gw.nodeId });

    await run.step('waiting-event');
    const room = `team:${user}`;
    expect((await api(gw.http, 'POST', `/api/server/rooms/${room}/join`, { userIds: [user] })).status).toBe(200);
    expect((await api(gw.http, 'POST', '/api/server/publish/room', { room, event: 'team:update', data: { v: 1, name: 'ünï' } })).status).toBe(200);
    const event = await run.step('event');
    expect(event['data']).toEqual({ v: 1, name: 'ünï' });
    if ('args' in event) expect(event['args']).toBe(1);

    expect(await run.step('echo')).toMatchObject({ hex: '0001faff', name: 'x.bin' });
    expect((await run.step('echo'))['type']).toMatch(/^(bytes|byte\[\])$/);
    expect(await run.step('echo-bare')).toMatchObject({ hex: Buffer.from('raw').toString('hex') });

    await run.step('ready-for-kick');
    expect((await api(gw.http, 'POST', `/api/server/users/${user}/disconnect`, {})).status).toBe(200);
    expect((await run.step('disconnected'))['reason']).toBe(client.kickedReason);
    const done = await run.step('done');
    expect(done['connected']).toBe(false);
    if ('active' in done) expect(done['active']).toBe(false);
    expect(await run.exited).toBe(0);
    expect(run.errors()).toEqual([]);
    // The kick was not followed by a reconnect.
    expect((await api(gw.http, 'GET', `/api/server/users/${user}/presence`)).body).toMatchObject({ connections: 0 });
  });
});
