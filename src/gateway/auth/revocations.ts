/**
 * Revoked tokens, per user: tokens issued (`iat`) before `notBefore` are refused until `until`
 * (the revocation time plus SESSION_REVOCATION_TTL_SEC, the longest token lifetime). Held in
 * process memory on every node so the verifier checks it without a round trip; the sessions
 * module keeps it in step across nodes (src/handlers/session/).
 */
export interface Revocation {
  userId: string;
  /** Seconds since epoch: tokens with a smaller `iat` (or none) are refused. */
  notBefore: number;
  /** Milliseconds since epoch: when the revocation lapses. */
  until: number;
}

/** The revocation instant (ms) as a token `iat` bound: a token issued in that very second counts as older. */
export const notBeforeOf = (revokedAtMs: number): number => Math.ceil(revokedAtMs / 1000);

/** Whether a token of a user with a revocation `notBefore` is refused. */
export const isOlderToken = (issuedAt: number | undefined, notBefore: number): boolean => issuedAt === undefined || issuedAt < notBefore;

export class RevocationList {
  private readonly entries = new Map<string, { notBefore: number; until: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Merges a revocation (the later `notBefore` and `until` win); returns the merged entry. */
  apply(revocation: Revocation): Revocation {
    const current = this.entries.get(revocation.userId);
    const merged =
      current && current.until > this.now()
        ? { notBefore: Math.max(current.notBefore, revocation.notBefore), until: Math.max(current.until, revocation.until) }
        : { notBefore: revocation.notBefore, until: revocation.until };
    this.entries.set(revocation.userId, merged);
    return { userId: revocation.userId, ...merged };
  }

  /** True when the user's token issued at `issuedAt` is revoked. */
  refuses(userId: string, issuedAt: number | undefined): boolean {
    if (this.entries.size === 0) return false;
    const entry = this.entries.get(userId);
    if (!entry) return false;
    if (entry.until <= this.now()) {
      this.entries.delete(userId);
      return false;
    }
    return isOlderToken(issuedAt, entry.notBefore);
  }

  /** The revocation standing for a user, if any. */
  get(userId: string): Revocation | undefined {
    const entry = this.entries.get(userId);
    return entry && entry.until > this.now() ? { userId, ...entry } : undefined;
  }

  /** Drops lapsed revocations. */
  sweep(): void {
    const now = this.now();
    for (const [userId, entry] of this.entries) if (entry.until <= now) this.entries.delete(userId);
  }

  get size(): number {
    return this.entries.size;
  }
}
