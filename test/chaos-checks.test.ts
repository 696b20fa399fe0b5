/**
 * The chaos suite's invariants (test/chaos/checks.ts) on a phase with no
 * fault, recorded the way `npm run test:chaos` records one (test/chaos/
 * record.ts) from the example app on the real Redis and MariaDB. They hold
 * for the store as it is, and fail for a planted store that over-grants:
 * it grants units it does not have without ever taking its figure below 0,
 * so the database's books (never oversold) and reconcile (figure + held ==
 * database) find nothing wrong, and only the database guard's refusals and
 * the transactions they cost give it away.
 */
import { expect } from 'chai';
import { Op } from 'sequelize';
import type { StockStore } from '../lib';
import { createApp } from '../example/app';
import { readConfig } from '../example/config';
import { createDatabase, prepareDatabase, type Database } from '../example/db/database';
import { checkPhase, GUARD_REFUSED, type Attempt, type PhaseRecord } from './chaos/checks';
import { attemptOrder, readStats, recordSku } from './chaos/record';
import { listen } from './helpers/app';
import { connectRedis, deleteWithPrefix, uniquePrefix, type AnyRedis } from './helpers/redis';
import { inParallel } from './example/shop';

const INITIAL = 20;
const OPTIONS = { graceMs: 4000, clientTimeoutMs: 10_000 };

/**
 * Grants what it does not have: where the store finds too few units, it
 * answers with a hold Redis never took, as if reserved; the figure is left
 * as it is (never below 0).
 */
function overGranting(store: StockStore): StockStore {
  const planted = Object.create(store) as StockStore;
  planted.reserve = async (key, qty, loader, options) => {
    const result = await store.reserve(key, qty, loader, options);
    if (result.status !== 'insufficient') return result;
    return { status: 'reserved', remaining: result.available, holdId: store.holdId(key), expiresAt: Date.now() + 2000 };
  };
  return planted;
}

describe('chaos checks: a phase with no fault', function () {
  this.timeout(60_000);
  let db: Database;
  let redis: AnyRedis;
  const prefixes: string[] = [];
  const skus: string[] = [];

  before(async () => {
    db = createDatabase(readConfig().databaseUrl, { pool: { max: 10 } });
    await prepareDatabase(db);
    redis = connectRedis();
  });
  after(async () => {
    await db.Order.destroy({ where: { sku: { [Op.in]: skus } } });
    await db.Product.destroy({ where: { sku: { [Op.in]: skus } } });
    for (const prefix of prefixes) await deleteWithPrefix(redis, prefix);
    await redis.quit();
    await db.sequelize.close();
  });

  /** A sale on two products through the app (`wrapStore` around its store), past their stock, recorded. */
  async function phase(label: string, wrapStore?: (store: StockStore) => StockStore): Promise<PhaseRecord> {
    const prefix = uniquePrefix(label);
    prefixes.push(prefix);
    const { app, store } = createApp({ db, redis, prefix, store: { holdSeconds: 10 }, wrapStore });
    const server = await listen(app);
    try {
      const mine = [`chaos-${label}-${prefix.split(':')[2]}-a`, `chaos-${label}-${prefix.split(':')[2]}-b`];
      skus.push(...mine);
      for (const sku of mine) await db.Product.create({ sku, name: `chaos checks ${label}`, stock: INITIAL });
      const before = await readStats(server.url);
      const buy = (i: number) =>
        attemptOrder(server.url, 0, { kind: 'none', sku: mine[i % 2] as string, qty: 1 + (i % 3), payment: i % 5 === 4 ? 'decline' : 'card' }, OPTIONS.clientTimeoutMs);
      const attempts: Attempt[] = await inParallel(60, 8, buy);
      // Once sold out, a few more buyers one after the other.
      for (let i = 0; i < 4; i++) attempts.push(await buy(i));
      const after = await readStats(server.url);
      const acked = new Set(attempts.filter((a) => a.orderId !== undefined).map((a) => a.orderId as number));
      const records = [];
      for (const sku of mine) records.push(await recordSku(sku, { db, store, redis, prefix }, acked));
      return { kind: 'none', initial: INITIAL, attempts, faults: [], workers: [{ worker: 0, before, after }], skus: records };
    } finally {
      await server.close();
    }
  }

  it('the store as it is: every invariant holds; transactions == paid + declined, no guard refusal', async () => {
    const record = await phase('honest');
    const { failures, summary } = checkPhase(record, OPTIONS);
    expect(failures).to.deep.equal([]);
    expect(summary.guardRefusals).to.equal(0);
    const [{ before, after }] = record.workers as [PhaseRecord['workers'][number]];
    expect(after.dbTransactions - before.dbTransactions).to.equal(after.paid - before.paid + (after.declined - before.declined));
    // The sale sold out: Redis turned the rest away itself.
    expect(record.skus.map((s) => s.dbStock)).to.deep.equal([0, 0]);
    expect(record.attempts.filter((a) => a.outcome === 409).length).to.be.above(0);
  });

  it('a planted store that over-grants, its figure never below 0: the guard refusals fail the phase, though books and reconcile agree', async () => {
    const record = await phase('planted', overGranting);
    const { failures, summary } = checkPhase(record, OPTIONS);
    // What a check of the database alone, or of reconcile, would see: nothing wrong.
    for (const s of record.skus) {
      expect(s.dbStock + s.unitsOrdered, s.sku).to.equal(INITIAL);
      expect(s.plain, s.sku).to.be.a('number').at.least(0);
    }
    expect(failures.filter((f) => /oversold|database stock/.test(f))).to.deep.equal([]);
    // What the answers and the workers' counts show.
    expect(summary.guardRefusals).to.be.at.least(4);
    expect(record.attempts.filter((a) => a.code === GUARD_REFUSED).length).to.equal(summary.guardRefusals);
    expect(failures).to.include(`none: ${summary.guardRefusals} guard refusal(s) (the database refused units Redis had granted) in a phase whose fault loses no writes`);
  });
});
