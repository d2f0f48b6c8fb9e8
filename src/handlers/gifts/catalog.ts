/**
 * The catalogue cache: every node keeps the catalogue in memory and reloads it from MongoDB when
 * `catalog:version` in Redis changes (the seed command and catalogue edits bump it; nodes poll it
 * every CATALOG_REFRESH_MS). Without MongoDB the default catalogue is served.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { COLLECTIONS } from '../../store/collections.js';
import type { Documents } from '../../store/documents.js';
import { moneyKeys } from '../wallets/keys.js';
import { DEFAULT_CATALOGUE } from './catalog-defaults.js';
import { CATALOGUE_KINDS, type Catalogue, type CatalogueKind, type Gift } from './model.js';

export const CATALOGUE_COLLECTIONS: Record<CatalogueKind, string> = {
  gifts: COLLECTIONS.gifts,
  coinPackages: COLLECTIONS.coinPackages,
  levels: COLLECTIONS.levels,
  supporterBadges: COLLECTIONS.supporterBadges,
  currencies: COLLECTIONS.currencies,
};

const SORT_FIELD: Record<CatalogueKind, string> = { gifts: 'sortOrder', coinPackages: 'sortOrder', levels: 'level', supporterBadges: '_id', currencies: '_id' };

export class CatalogService {
  private catalogue: Catalogue = DEFAULT_CATALOGUE;
  private giftsById = new Map<string, Gift>();
  private version = '';
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly documents: Documents,
    private readonly redis: Redis | undefined,
    private readonly log: Logger,
    private readonly refreshMs: number,
  ) {
    this.index();
  }

  gift(id: string): Gift | undefined {
    return this.giftsById.get(id);
  }

  list<K extends CatalogueKind>(kind: K): Catalogue[K] {
    return this.catalogue[kind];
  }

  get currentVersion(): string {
    return this.version;
  }

  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Reloads when the version key moved (or on first call). Keeps the old catalogue on failure. */
  async refresh(): Promise<boolean> {
    if (!this.documents.configured) return false;
    try {
      const version = (await this.redis?.get(moneyKeys.catalogVersion)) ?? 'static';
      if (version === this.version && this.giftsById.size > 0) return false;
      const loaded = {} as Record<CatalogueKind, unknown[]>;
      for (const kind of CATALOGUE_KINDS) {
        loaded[kind] = await this.documents
          .collection(CATALOGUE_COLLECTIONS[kind])
          .find({})
          .sort({ [SORT_FIELD[kind]]: 1 })
          .toArray();
      }
      const catalogue = loaded as unknown as Catalogue;
      if (catalogue.gifts.length === 0) {
        this.log.warn('the gift catalogue in MongoDB is empty; serving the defaults (run `npm run seed`)');
        catalogue.gifts = DEFAULT_CATALOGUE.gifts;
      }
      this.catalogue = catalogue;
      this.version = version;
      this.index();
      this.log.info({ version, gifts: catalogue.gifts.length }, 'catalogue loaded');
      return true;
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'catalogue refresh failed; keeping the cached one');
      return false;
    }
  }

  private index(): void {
    this.giftsById = new Map(this.catalogue.gifts.map((g) => [g._id, normaliseGift(g)]));
  }
}

/** Dates may come back as strings from some stores; the cache holds Dates. */
function normaliseGift(g: Gift): Gift {
  const date = (d: unknown): Date | null => (d instanceof Date ? d : typeof d === 'string' ? new Date(d) : null);
  return { ...g, availableFrom: date(g.availableFrom), availableUntil: date(g.availableUntil) };
}
