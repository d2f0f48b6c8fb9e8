import type { Revocation } from '../../gateway/auth/revocations.js';

/** Where revocations outlive one node: every node loads them at start and re-reads them periodically. */
export interface RevocationStore {
  /** Stores a revocation merged with the one already there (later `notBefore` and `until` win); returns the merged one. */
  save(revocation: Revocation): Promise<Revocation>;
  /** Every revocation that has not lapsed. */
  loadAll(): Promise<Revocation[]>;
}
