/**
 * `node dist/src/tools/try-gift.js [http://localhost:8080]`: the product in one minute, against a
 * gateway started by `npm start` (DEV_TOKENS and DEV_PAYMENTS on). Over socket.io-client, as an
 * app would: signs in a host and a viewer with POST /api/dev/token, the host goes live, the viewer
 * joins, buys the smallest coin package with the development provider, sends the cheapest gift
 * into the stream and waits for its ack (with the new balance) and for the gift:sent frame in the
 * room. Prints one JSON line with what it saw; exits 1 with the failing step otherwise.
 *
 * A development tool: it needs the devDependency socket.io-client (not in the production image).
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { io, type Socket } from 'socket.io-client';

export interface TryGiftResult {
  livestreamId: string;
  hostId: string;
  viewerId: string;
  purchase: { packageId: string; amount: number; balance: number };
  gift: { giftId: string; totalCost: number; balance: number; giftTransactionId: string };
  giftSent: { giftId: string; count: number; coins: number; recipientId: string };
}

type Ack = Record<string, unknown> & { error?: { code: string; message: string } };

const TIMEOUT_MS = 10_000;

async function devToken(base: string, userId: string, name: string): Promise<string> {
  const res = await fetch(new URL('/api/dev/token', base), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId, name }) });
  const body = (await res.json()) as { token?: string; error?: { code: string; message: string } };
  if (!res.ok || !body.token) throw new Error(`POST /api/dev/token: ${res.status} ${body.error?.code ?? ''} ${body.error?.message ?? ''} (is DEV_TOKENS on?)`);
  return body.token;
}

function connect(base: string, token: string): Promise<Socket> {
  const socket = io(base, { transports: ['websocket'], auth: { token }, reconnection: false, forceNew: true });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => reject(new Error(`socket.io connect: ${err.message}`)));
  });
}

async function request(socket: Socket, event: string, data: unknown): Promise<Ack> {
  const ack = (await socket.timeout(TIMEOUT_MS).emitWithAck(event, data)) as Ack;
  if (ack.error) throw new Error(`${event}: ${ack.error.code}: ${ack.error.message}`);
  return ack;
}

function nextEvent(socket: Socket, event: string, match: (data: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
    const listener = (data: Record<string, unknown>): void => {
      if (!match(data)) return;
      clearTimeout(timer);
      socket.off(event, listener);
      resolve(data);
    };
    socket.on(event, listener);
  });
}

const num = (value: unknown, what: string): number => {
  if (typeof value !== 'number') throw new Error(`${what}: expected a number, got ${JSON.stringify(value)}`);
  return value;
};
const str = (value: unknown, what: string): string => {
  if (typeof value !== 'string') throw new Error(`${what}: expected a string, got ${JSON.stringify(value)}`);
  return value;
};

export async function tryGift(base: string): Promise<TryGiftResult> {
  const tag = randomBytes(3).toString('hex');
  const hostId = `demo-host-${tag}`;
  const viewerId = `demo-viewer-${tag}`;
  const host = await connect(base, await devToken(base, hostId, 'Demo Host'));
  const viewer = await connect(base, await devToken(base, viewerId, 'Demo Viewer'));
  try {
    const started = await request(host, 'livestream:start', { title: 'try-gift', streamId: `try-${tag}` });
    const livestreamId = str(started['livestreamId'] ?? started['streamId'], 'livestream:start ack');
    await request(viewer, 'livestream:join', { streamId: livestreamId });

    const packages = (await request(viewer, 'catalog:get', { kind: 'coinPackages' }))['items'] as Array<{ id?: string; _id?: string; coins: number; bonusCoins: number; isActive: boolean }>;
    const gifts = (await request(viewer, 'gift:catalog', {}))['gifts'] as Array<{ id: string; price: number; available: boolean }>;
    const gift = gifts.filter((g) => g.available).sort((a, b) => a.price - b.price)[0];
    if (!gift) throw new Error('gift:catalog: no gift available (is the catalogue seeded? npm run seed)');
    const pack = packages.filter((p) => p.isActive && p.coins + p.bonusCoins >= gift.price).sort((a, b) => a.coins - b.coins)[0];
    const packageId = pack?.id ?? pack?._id;
    if (!packageId) throw new Error(`catalog:get coinPackages: none covers gift ${gift.id} (${gift.price} coins)`);

    const bought = await request(viewer, 'coins:purchase', { packageId, idempotencyKey: `try-buy-${tag}` });
    const sent = nextEvent(viewer, 'gift:sent', (d) => d['giftId'] === gift.id && d['recipientId'] === hostId);
    const ack = await request(viewer, 'gift:send', { giftId: gift.id, quantity: 1, livestreamId, idempotencyKey: `try-gift-${tag}` });
    const frame = await sent;
    await request(host, 'livestream:end', { streamId: livestreamId });
    return {
      livestreamId,
      hostId,
      viewerId,
      purchase: { packageId, amount: num(bought['amount'], 'coins:purchase amount'), balance: num(bought['balance'], 'coins:purchase balance') },
      gift: {
        giftId: gift.id,
        totalCost: num(ack['totalCost'], 'gift:send totalCost'),
        balance: num(ack['balance'], 'gift:send balance'),
        giftTransactionId: str(ack['giftTransactionId'], 'gift:send giftTransactionId'),
      },
      giftSent: { giftId: str(frame['giftId'], 'gift:sent giftId'), count: num(frame['count'], 'gift:sent count'), coins: num(frame['coins'], 'gift:sent coins'), recipientId: str(frame['recipientId'], 'gift:sent recipientId') },
    };
  } finally {
    host.close();
    viewer.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  tryGift(process.argv[2] ?? 'http://localhost:8080').then(
    (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
    (err: unknown) => {
      process.stderr.write(`try-gift failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
