import type { Revocation } from '../../gateway/auth/revocations.js';
import type { RevocationStore } from './revocations.js';

/** Single node (no REDIS_URL): the node's own RevocationList is the only copy; nothing to load. */
export class MemoryRevocationStore implements RevocationStore {
  async save(revocation: Revocation): Promise<Revocation> {
    return revocation;
  }

  async loadAll(): Promise<Revocation[]> {
    return [];
  }
}
