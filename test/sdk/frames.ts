/**
 * Checks frames a client really received against the event contract of /asyncapi.json: each ack
 * against its request's ack schema, each event against the schema of its name (an event the
 * document does not list is a violation too), each error against ErrorBody. Plain JSON Schema
 * (Ajv), so what is checked is the published document, not the server's TypeBox objects.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { NativeClient, ServerFrame } from '../support/clients.js';

type Json = Record<string, unknown>;

// ajv-formats is CommonJS: its default export arrives as the module object under ESM.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

/** A client's frames, with the event each ack answers (frames carry only the request id). */
export interface Recorded {
  who: string;
  frames: ServerFrame[];
  requests: ReadonlyMap<number | string, string>;
}

/** Sends requests through `client` remembering which event each id was for. */
export function recorder(who: string, client: NativeClient): Recorded & { request(event: string, data?: unknown): Promise<ServerFrame> } {
  const requests = new Map<number | string, string>();
  return {
    who,
    frames: client.frames,
    requests,
    async request(event, data = {}) {
      const reply = await client.request(event, data);
      if (reply.ack !== undefined) requests.set(reply.ack, event);
      return reply;
    },
  };
}

export interface Violation {
  who: string;
  what: string;
  errors: string;
}

export class ContractChecker {
  private readonly ajv = new Ajv({ strict: false, allErrors: true });
  private readonly cache = new Map<string, ValidateFunction | undefined>();
  private readonly messages: Record<string, { payload: Json }>;

  constructor(doc: Json) {
    addFormats(this.ajv);
    const components = doc['components'] as { messages: Record<string, { payload: Json }>; schemas: Record<string, Json> };
    this.messages = components.messages;
    this.ajv.addSchema({ $id: 'lg', components: { schemas: components.schemas } });
  }

  /** Which message ids (`<event>.ack`, `<event>.event`, `error`) the frames were checked against, and what failed. */
  check(recorded: Recorded[]): { checked: Set<string>; violations: Violation[] } {
    const checked = new Set<string>();
    const violations: Violation[] = [];
    for (const { who, frames, requests } of recorded) {
      for (const frame of frames) {
        const id = this.messageOf(frame, requests);
        if (id === undefined) {
          violations.push({ who, what: JSON.stringify(frame).slice(0, 200), errors: 'an ack of a request this test did not record' });
          continue;
        }
        const validate = this.validator(id);
        if (!validate) {
          violations.push({ who, what: id, errors: 'not in /asyncapi.json' });
          continue;
        }
        checked.add(id);
        const payload = id === 'error' ? frame.error : frame.data;
        if (!validate(payload))
          violations.push({ who, what: id, errors: `${this.ajv.errorsText(validate.errors)} in ${JSON.stringify(payload).slice(0, 300)}` });
      }
    }
    return { checked, violations };
  }

  private messageOf(frame: ServerFrame, requests: ReadonlyMap<number | string, string>): string | undefined {
    if (frame.error !== undefined) return 'error';
    if (frame.ack !== undefined) {
      const event = requests.get(frame.ack);
      return event === undefined ? undefined : `${key(event)}.ack`;
    }
    return `${key(frame.event ?? '')}.event`;
  }

  private validator(id: string): ValidateFunction | undefined {
    if (!this.cache.has(id)) {
      const message = this.messages[id];
      const schema = message
        ? (JSON.parse(JSON.stringify(message.payload).replaceAll('"#/components/schemas/', '"lg#/components/schemas/')) as Json)
        : undefined;
      this.cache.set(id, schema ? this.ajv.compile(schema) : undefined);
    }
    return this.cache.get(id);
  }
}

/** The AsyncAPI component key of an event (src/gateway/asyncapi.ts). */
const key = (event: string): string => event.replace(/[^A-Za-z0-9._-]/g, '.');
