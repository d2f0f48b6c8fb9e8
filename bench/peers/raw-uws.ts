/**
 * The ceiling: the least a uWebSockets.js server can do for the benchmark's protocol (livegate's
 * native JSON envelope). No token check, no validation, no rate limits, no bus, no metrics:
 * join = ws.subscribe, publish = one JSON.stringify + app.publish. Single node only.
 * Usage: PORT=0 node dist/bench/peers/raw-uws.js   (prints "listening <port>")
 * USER_TOPIC=1 also subscribes every socket to a topic of its own on open, as livegate does with
 * each user's room (a diagnostic variant: what one extra topic per socket costs uWS).
 * SHARED_TOPIC=1 subscribes every socket to one topic common to all (what a node-wide topic such
 * as a broadcast room costs per socket).
 */
import { loadNativeUws } from '../../src/gateway/uws.js';

interface Envelope {
  event?: string;
  id?: number | string;
  data?: { room?: string; data?: unknown };
}

const uws = loadNativeUws();
const app = uws.App();
const seqs = new Map<string, number>();
const userTopic = process.env['USER_TOPIC'] === '1';
const sharedTopic = process.env['SHARED_TOPIC'] === '1';
let socketCount = 0;

app.ws<Record<string, never>>('/ws', {
  maxPayloadLength: 64 * 1024,
  idleTimeout: 60,
  maxBackpressure: 1024 * 1024,
  open: (ws) => {
    if (userTopic) ws.subscribe(`user:${++socketCount}`);
    if (sharedTopic) ws.subscribe('broadcast');
  },
  message: (ws, message) => {
    let env: Envelope;
    try {
      env = JSON.parse(Buffer.from(message).toString('utf8')) as Envelope;
    } catch {
      ws.send('{"error":{"code":"bad_request"}}');
      return;
    }
    const room = env.data?.room;
    if (typeof room !== 'string') return;
    if (env.event === 'bench:join') {
      ws.subscribe(room);
      if (env.id !== undefined) ws.send(JSON.stringify({ ack: env.id, data: { room } }));
    } else if (env.event === 'bench:publish') {
      const seq = (seqs.get(room) ?? 0) + 1;
      seqs.set(room, seq);
      app.publish(room, JSON.stringify({ event: 'bench:msg', data: env.data?.data, room, seq }));
      if (env.id !== undefined) ws.send(JSON.stringify({ ack: env.id, data: { seq } }));
    }
  },
});

app.get('/healthz', (res) => {
  res.writeHeader('content-type', 'application/json').end('{"status":"ok"}');
});

app.post('/api/bench/echo', (res) => {
  const chunks: Buffer[] = [];
  let aborted = false;
  res.onAborted(() => (aborted = true));
  res.onData((chunk, isLast) => {
    chunks.push(Buffer.from(chunk.slice(0)));
    if (!isLast || aborted) return;
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      res.cork(() => res.writeStatus('400 Bad Request').end());
      return;
    }
    res.cork(() => res.writeHeader('content-type', 'application/json').end(JSON.stringify({ echo: body })));
  });
});

app.listen('127.0.0.1', Number(process.env['PORT'] ?? 0), (socket) => {
  if (!socket) {
    process.stderr.write('raw-uws: cannot listen\n');
    process.exit(1);
  }
  process.stdout.write(`listening ${uws.us_socket_local_port(socket)}\n`);
});
process.on('SIGTERM', () => process.exit(0));
