/**
 * One client scenario, run as is in Node and (through its source text) in Chromium: it may use only
 * the `LivegateClient` class it is given and the platform's globals, no imports.
 */
export interface ScenarioInput {
  url: string;
  token: string;
  streamId: string;
  format: 'json' | 'msgpack';
}

export interface ScenarioResult {
  userId: string;
  joinedViewers: number;
  chat: { text: string; room: string; seq: number };
  ackSeq: number;
  errorCode: string;
  states: string[];
}

// Typed loosely on purpose: the browser side passes the bundle's class and codec.
type Client = {
  connect(): Promise<{ userId: string }>;
  request(event: string, data: unknown, options?: { timeout?: number }): Promise<unknown>;
  on(event: string, handler: (data: never, meta: never) => void): unknown;
  close(): void;
};

export async function scenario(
  Livegate: new (options: { urls: string[]; token: string; format?: unknown }) => Client,
  codecs: Record<string, unknown>,
  input: ScenarioInput,
): Promise<ScenarioResult> {
  const client = new Livegate({ urls: [input.url], token: input.token, format: codecs[input.format] });
  const states: string[] = [];
  client.on('connecting', () => states.push('connecting'));
  client.on('connected', () => states.push('connected'));
  client.on('disconnected', () => states.push('disconnected'));
  const chat = new Promise<{ text: string; room: string; seq: number }>((resolve) => {
    client.on('livestream:chat', (data: { text: string }, meta: { room: string; seq: number }) => resolve({ text: data.text, room: meta.room, seq: meta.seq }));
  });
  const ready = await client.connect();
  const joined = (await client.request('livestream:join', { streamId: input.streamId })) as { viewers: number };
  const ack = (await client.request('livestream:chat', { streamId: input.streamId, text: `hello from ${input.format}` })) as { seq: number };
  const received = await chat;
  const errorCode = await client.request('no:such:event', {}).then(
    () => 'none',
    (err: { code: string }) => err.code,
  );
  client.close();
  return { userId: ready.userId, joinedViewers: joined.viewers, chat: received, ackSeq: ack.seq, errorCode, states };
}
