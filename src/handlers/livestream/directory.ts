import type { Core } from '../../core.js';
import type { WriteOp } from '../../store/write-queue.js';
import { MemoryStreamStore } from './streams-memory.js';
import { RedisStreamStore } from './streams-redis.js';
import type { StreamInfo, StreamStore } from './streams.js';

const stores = new WeakMap<Core, StreamStore>();

/** The node's stream store (one per Core: Redis with REDIS_URL, memory otherwise). */
export function streamStoreFor(core: Core): StreamStore {
  let store = stores.get(core);
  if (!store) stores.set(core, (store = core.redis ? new RedisStreamStore(core.redis) : new MemoryStreamStore()));
  return store;
}

/**
 * Who hosts a live stream, for other modules (the REST side of co-hosting takes a
 * `StreamDirectory {hostOf}`): `multiHostModule(streamDirectoryFor)`.
 */
export function streamDirectoryFor(core: Core): { hostOf(streamId: string): Promise<string | undefined> } {
  const store = streamStoreFor(core);
  return {
    async hostOf(streamId) {
      const info = await store.get(streamId);
      return info?.status === 'live' ? info.hostId : undefined;
    },
  };
}

export const LIVESTREAMS = 'livestreams';

const RECORD_VERSION: Record<StreamInfo['status'], number> = { created: 0, live: 1, ended: 2 };

/**
 * The stream record for MongoDB (collection `livestreams`, _id = streamId). Create is version 0,
 * start version 1 and end version 2, each carrying the whole record, so replays and out-of-order
 * application settle on the newest state.
 */
export function streamRecordOp(info: StreamInfo): WriteOp {
  const date = (ms: number | undefined): Date | null => (ms === undefined ? null : new Date(ms));
  return {
    kind: 'setIfNewer',
    collection: LIVESTREAMS,
    id: info.streamId,
    version: RECORD_VERSION[info.status],
    set: {
      hostId: info.hostId,
      title: info.title,
      status: info.status,
      createdAt: new Date(info.createdAt),
      startedAt: date(info.startedAt),
      endedAt: date(info.endedAt),
    },
  };
}
