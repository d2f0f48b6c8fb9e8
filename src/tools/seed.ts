/**
 * `npm run seed` (node dist/src/tools/seed.js): loads the default catalogue (gifts, coin packages,
 * levels, supporter badges, currencies) into MongoDB. Idempotent: every document has a stable _id
 * and is upserted; running it twice leaves the same data. With REDIS_URL set it bumps
 * `catalog:version`, so running gateways reload the catalogue within CATALOG_REFRESH_MS.
 * `--if-empty` seeds only a database without any catalogue document.
 */
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { MongoClient, type Db } from 'mongodb';
import { DEFAULT_CATALOGUE } from '../handlers/gifts/catalog-defaults.js';
import { CATALOGUE_COLLECTIONS } from '../handlers/gifts/catalog.js';
import { CATALOGUE_KINDS } from '../handlers/gifts/model.js';
import { moneyKeys } from '../handlers/wallets/keys.js';

export async function seedCatalogue(db: Db): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const kind of CATALOGUE_KINDS) {
    const docs = DEFAULT_CATALOGUE[kind] as unknown as Array<{ _id: string } & Record<string, unknown>>;
    const collection = db.collection<{ _id: string }>(CATALOGUE_COLLECTIONS[kind]);
    for (const { _id, ...fields } of docs) {
      await collection.updateOne({ _id }, { $set: { ...fields, updatedAt: new Date() }, $setOnInsert: { createdAt: new Date() } }, { upsert: true });
    }
    counts[kind] = docs.length;
  }
  return counts;
}

/** True when any catalogue collection has a document. */
export async function catalogueExists(db: Db): Promise<boolean> {
  for (const kind of CATALOGUE_KINDS) {
    if ((await db.collection(CATALOGUE_COLLECTIONS[kind]).countDocuments({}, { limit: 1 })) > 0) return true;
  }
  return false;
}

/** Tells running gateways the catalogue changed. */
export async function bumpCatalogueVersion(redis: Redis): Promise<number> {
  return redis.incr(moneyKeys.catalogVersion);
}

async function main(): Promise<void> {
  const mongoUrl = process.env['MONGO_URL'];
  if (!mongoUrl) throw new Error('MONGO_URL is required');
  const client = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  try {
    const db = client.db(process.env['MONGO_DB'] || 'livegate');
    // --if-empty (npm start with an outside MONGO_URL): leave a catalogue that is there alone.
    if (process.argv.includes('--if-empty') && (await catalogueExists(db))) {
      process.stdout.write(`${JSON.stringify({ msg: 'seed skipped: the catalogue exists (npm run seed overwrites it)' })}\n`);
      return;
    }
    const counts = await seedCatalogue(db);
    let version: number | undefined;
    const redisUrl = process.env['REDIS_URL']?.split(',')[0]?.trim();
    if (redisUrl) {
      const redis = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
      version = await bumpCatalogueVersion(redis);
      redis.disconnect();
    }
    process.stdout.write(`${JSON.stringify({ msg: 'seeded', counts, catalogVersion: version ?? null })}\n`);
  } finally {
    await client.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err: unknown) => {
    process.stderr.write(`seed failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
