/**
 * The AsyncAPI 3.0 document of the socket events, generated from the same registries the node runs:
 * every handler's request schema and ack schema (the dispatch table), and every server-to-client
 * event a domain or the gateway declares. Served at `GET /asyncapi.json`; the client SDK's types are
 * generated from it (src/tools/client-types.ts).
 */
import { Type } from '@sinclair/typebox';
import { ERROR_CODES } from '../kernel/errors.js';
import type { EmittedEvents, EventContract } from './handler.js';
import { Components } from './http/openapi.js';
import { defineRoute } from './http/route.js';
import type { RouteDef } from './http/types.js';

type Json = Record<string, unknown>;

export interface AsyncApiInfo {
  title: string;
  version: string;
  description: string;
}

/** Request fields that name a request for exactly-once retries, in the order they are looked for. */
const KEY_FIELDS = ['idempotencyKey', 'clientId'] as const;

/** AsyncAPI component keys allow `[A-Za-z0-9._-]`: `livestream:chat` becomes `livestream.chat`. */
const key = (event: string): string => event.replace(/[^A-Za-z0-9._-]/g, '.');

const RECEIVERS: Record<EmittedEvents[string]['to'], string> = {
  connection: 'the one connection concerned',
  room: 'every member of the room, on every node (room events carry `room` and `seq`)',
  user: "every connection of the user (the user's room `user:<id>`)",
};

/** The field a request names itself with for retries, when its schema has one at the top level. */
function keyField(schema: Json): string | undefined {
  const properties = schema['properties'];
  if (typeof properties !== 'object' || properties === null) return undefined;
  return KEY_FIELDS.find((field) => field in properties);
}

/** What the document describes: every registered event's schemas (Dispatcher.contracts()) and the server's events. */
export interface SocketContract {
  events: Readonly<Record<string, EventContract>>;
  emitted: EmittedEvents;
}

export function buildAsyncApi({ events, emitted }: SocketContract, info: AsyncApiInfo): Json {
  const components = new Components();
  const messages: Record<string, Json> = {};
  const operations: Record<string, Json> = {};
  const channelRef = { $ref: '#/channels/socket' };
  const messageRef = (id: string): Json => ({ $ref: `#/channels/socket/messages/${id}` });

  const errorPayload = components.ref(
    Type.Object(
      {
        code: Type.Union(
          Object.keys(ERROR_CODES).map((c) => Type.Literal(c)),
          { description: 'stable error code (docs/PROTOCOL.md, "Errors")' },
        ),
        message: Type.String({ description: 'for humans; program against the code' }),
        retryAfterMs: Type.Optional(Type.Integer({ minimum: 0, description: 'when the request may be sent again (`overloaded`), in ms' })),
      },
      { $id: 'ErrorBody', additionalProperties: false },
    ),
  );
  messages['error'] = {
    name: 'error',
    title: 'error',
    summary: 'A refused request: `{ack, error: {code, message}}`, or `{error}` for a request without id.',
    payload: errorPayload,
  };

  for (const event of Object.keys(events).sort()) {
    const { payload: schema, ack } = events[event]!;
    const payload = components.ref(schema);
    const field = keyField(schema as unknown as Json);
    messages[`${key(event)}.request`] = {
      name: event,
      title: event,
      summary: `Client to server: \`{event: "${event}", id, data}\`; \`data\` is this payload.`,
      payload,
      ...(field ? { 'x-livegate-idempotency-key': field } : {}),
    };
    messages[`${key(event)}.ack`] = {
      name: `${event} ack`,
      title: `${event} ack`,
      summary: 'The ack: `{ack: id, data}`; `data` is this payload.',
      payload: components.ref(ack),
    };
    operations[`send.${key(event)}`] = {
      action: 'send',
      channel: channelRef,
      title: event,
      messages: [messageRef(`${key(event)}.request`)],
      reply: { channel: channelRef, messages: [messageRef(`${key(event)}.ack`), messageRef('error')] },
      ...(field ? { description: `Retried requests reuse \`${field}\`: the server runs it once.` } : {}),
    };
  }

  for (const event of Object.keys(emitted).sort()) {
    const def = emitted[event]!;
    messages[`${key(event)}.event`] = {
      name: event,
      title: event,
      summary: `Server to client: \`{event: "${event}", data${def.to === 'room' ? ', room, seq' : ''}}\`. ${def.description}`,
      payload: components.ref(def.schema),
      'x-livegate-receivers': def.to,
    };
    operations[`receive.${key(event)}`] = {
      action: 'receive',
      channel: channelRef,
      title: event,
      description: `Received by ${RECEIVERS[def.to]}.`,
      messages: [messageRef(`${key(event)}.event`)],
    };
  }

  return {
    asyncapi: '3.0.0',
    info: { title: info.title, version: info.version, description: info.description },
    defaultContentType: 'application/json',
    servers: {
      native: {
        host: '{host}',
        protocol: 'ws',
        pathname: '/ws',
        description: 'The native dialect; token in `?token=` or `Authorization: Bearer`; JSON text or msgpack binary frames (`?encoding=`).',
        variables: { host: { default: 'localhost:8080', description: 'the gateway host and port' } },
      },
    },
    channels: {
      socket: {
        address: '/ws',
        title: 'The native socket',
        description: 'One WebSocket carries every event; frames are envelopes (docs/PROTOCOL.md, "Native dialect").',
        messages: Object.fromEntries(Object.keys(messages).map((id) => [id, { $ref: `#/components/messages/${id}` }])),
      },
    },
    operations,
    components: { messages, schemas: components.schemas },
  };
}

/** `GET /asyncapi.json`: built once, at start (a bad schema fails the start). */
export function asyncApiRoute(contract: SocketContract, info: AsyncApiInfo): RouteDef {
  const document = buildAsyncApi(contract, info);
  return defineRoute(
    {
      method: 'get',
      path: '/asyncapi.json',
      operationId: 'getAsyncApiDocument',
      summary: 'The AsyncAPI 3.0 document of every socket event (payloads, acks, receivers)',
      tags: ['operations'],
      auth: 'none',
      rateLimit: false,
      quiet: true,
      response: Type.Object({ asyncapi: Type.String(), info: Type.Object({}), operations: Type.Object({}) }, { additionalProperties: true }),
    },
    (): { asyncapi: string; info: object; operations: object } => document as { asyncapi: string; info: object; operations: object },
  );
}
