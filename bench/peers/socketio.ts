/**
 * What users would pick instead: Socket.IO 4 with the same bench events, on its default engine
 * (node:http + ws) or attached to uWebSockets.js (io.attachApp), optionally clustered with
 * @socket.io/redis-adapter. Tokens are checked in a middleware (HS256, like livegate).
 * Usage: ENGINE=node|uws [REDIS_URL=redis://...] JWT_SECRET=... PORT=0 node dist/bench/peers/socketio.js
 * (prints "listening <port>")
 */
import { createSecretKey } from 'node:crypto';
import { createServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { jwtVerify } from 'jose';
import { Server } from 'socket.io';
import { loadNativeUws } from '../../src/gateway/uws.js';

const engine = process.env['ENGINE'] === 'uws' ? 'uws' : 'node';
const redisUrl = process.env['REDIS_URL'];
const secret = createSecretKey(Buffer.from(process.env['JWT_SECRET'] ?? '', 'utf8'));
const port = Number(process.env['PORT'] ?? 0);

const io = new Server({ serveClient: false, transports: ['websocket'] });
if (redisUrl) {
  const pub = new Redis(redisUrl);
  const sub = pub.duplicate();
  io.adapter(createAdapter(pub, sub));
}

io.use((socket, next) => {
  const token = (socket.handshake.auth as { token?: unknown }).token;
  if (typeof token !== 'string') return next(new Error('unauthorized'));
  jwtVerify(token, secret, { algorithms: ['HS256'] }).then(
    () => next(),
    () => next(new Error('unauthorized')),
  );
});

io.on('connection', (socket) => {
  socket.on('bench:join', (data: { room?: unknown }, ack?: (reply: unknown) => void) => {
    if (typeof data?.room !== 'string') return;
    void socket.join(data.room);
    ack?.({ room: data.room });
  });
  socket.on('bench:publish', (data: { room?: unknown; data?: unknown }) => {
    if (typeof data?.room !== 'string') return;
    io.to(data.room).emit('bench:msg', data.data);
  });
});

function ready(p: number): void {
  process.stdout.write(`listening ${p}\n`);
}

if (engine === 'uws') {
  const uws = loadNativeUws();
  const app = uws.App();
  io.attachApp(app);
  app.listen('127.0.0.1', port, (socket) => {
    if (!socket) {
      process.stderr.write('socketio: cannot listen\n');
      process.exit(1);
    }
    ready(uws.us_socket_local_port(socket));
  });
} else {
  const http = createServer();
  io.attach(http);
  http.listen(port, '127.0.0.1', () => {
    const address = http.address();
    ready(typeof address === 'object' && address ? address.port : port);
  });
}
process.on('SIGTERM', () => process.exit(0));
