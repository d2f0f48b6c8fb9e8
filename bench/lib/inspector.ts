/**
 * Profiles a running livegate node through its inspector (node --inspect): Profiler.start when
 * the load begins and Profiler.stop when it ends, so the profile holds the measured load only,
 * not process start-up or connection setup.
 */
import WebSocket from 'ws';

interface CdpReply {
  id?: number;
  result?: { profile?: unknown };
  error?: { message: string };
}

export class InspectorProfiler {
  private nextId = 1;
  private readonly pending = new Map<number, (reply: CdpReply) => void>();

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (raw: Buffer) => {
      const reply = JSON.parse(raw.toString('utf8')) as CdpReply;
      if (reply.id !== undefined) this.pending.get(reply.id)?.(reply);
    });
  }

  static async connect(port: number): Promise<InspectorProfiler> {
    const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{ webSocketDebuggerUrl: string }>;
    const url = targets[0]?.webSocketDebuggerUrl;
    if (!url) throw new Error(`no inspector target on port ${port}`);
    const socket = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return new InspectorProfiler(socket);
  }

  private call(method: string, params: Record<string, unknown> = {}): Promise<CdpReply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, (reply) => {
        this.pending.delete(id);
        if (reply.error) reject(new Error(`${method}: ${reply.error.message}`));
        else resolve(reply);
      });
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  async start(): Promise<void> {
    await this.call('Profiler.enable');
    await this.call('Profiler.setSamplingInterval', { interval: 500 });
    await this.call('Profiler.start');
  }

  /** A full garbage collection (HeapProfiler.collectGarbage). */
  async collectGarbage(): Promise<void> {
    await this.call('HeapProfiler.collectGarbage');
  }

  close(): void {
    this.socket.close();
  }

  /** Stops profiling and returns the .cpuprofile JSON text. */
  async stop(): Promise<string> {
    const reply = await this.call('Profiler.stop');
    this.socket.close();
    return JSON.stringify(reply.result?.profile);
  }
}
