/**
 * The chaos suite's invariants (test/chaos/checks.ts) on a phase with no
 * fault, recorded the way `npm run test:chaos` records one (test/chaos/
 * record.ts) from the example app on the real Redis and MariaDB. They hold
 * for the store as it is, and fail for a planted store that over-grants:
 * it grants units it does not have without ever taking its figure below 0,
 * so the database's books (never oversold) and reconcile (figure + held ==
 * database) find nothing wrong, and only the database guard's refusals and
 * the transactions they cost give it away. Likewise for per-customer limits:
 * a planted store that forgets who is buying passes the books and the
 * figure, and only the order rows per customer give it away.
 */
import { expect } from 'chai';
import { Op } from 'sequelize';
import type { StockStore } from '../lib';
import { createApp } from '../example/app';
import { readConfig } from '../example/config';
import { createDatabase, prepareDatabase, type Database } from '../example/db/database';
import { checkPhase, GUARD_REFUSED, LIMIT_REACHED, type Attempt, type PhaseRecord } from './chaos/checks';
import { attemptOrder, readStats, recordSku } from './chaos/record';
import { listen } from './helpers/app';
import { connectRedis, deleteWithPrefix, uniquePrefix, type AnyRedis } from './helpers/redis';
import { inParallel } from './example/shop';

const INITIAL = 20;
/** The limited product's per-customer limit. */
const LIMIT = 2;
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

/** Forgets who is buying: every reservation as if no customer were named, so no limit applies. */
function customerBlind(store: StockStore): StockStore {
  const planted = Object.create(store) as StockStore;
  planted.reserve = (key, qty, loader, options) => store.reserve(key, qty, loader, { ...options, customer: undefined });
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

  /** How a phase's buyers buy the products `skus` at `url`; `adminToken` lets them name themselves (X-Customer-Id). */
  type Buyers = (url: string, skus: string[], adminToken: string) => Promise<Attempt[]>;

  /** 60 buyers, 8 at a time, of two products, past their stock; then a few more one after the other. */
  const crowd: Buyers = async (url, [a, b]) => {
    const buy = (i: number) =>
      attemptOrder(url, 0, { kind: 'none', sku: (i % 2 ? b : a) as string, qty: 1 + (i % 3), payment: i % 5 === 4 ? 'decline' : 'card' }, OPTIONS.clientTimeoutMs);
    const attempts: Attempt[] = await inParallel(60, 8, buy);
    // Once sold out, a few more buyers one after the other.
    for (let i = 0; i < 4; i++) attempts.push(await buy(i));
    return attempts;
  };

  /** Three customers fire 10 orders of one unit each at one product, all at once. */
  const bursts: Buyers = (url, [sku], adminToken) =>
    Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        attemptOrder(url, 0, { kind: 'none', sku: sku as string, qty: 1, payment: 'card', customer: { id: `c${i % 3}`, adminToken } }, OPTIONS.clientTimeoutMs),
      ),
    );

  /**
   * A sale through the app (`wrapStore` around its store) on products of
   * INITIAL units each, one per given per-customer limit (null: none), by
   * `buyers`; recorded.
   */
  async function phase(label: string, limits: (number | null)[], buyers: Buyers, wrapStore?: (store: StockStore) => StockStore): Promise<PhaseRecord> {
    const prefix = uniquePrefix(label);
    prefixes.push(prefix);
    const adminToken = `token-${label}`;
    const { app, store } = createApp({ db, redis, prefix, adminToken, store: { holdSeconds: 10 }, wrapStore });
    const server = await listen(app);
    try {
      const mine = limits.map((_, i) => `chaos-${label}-${prefix.split(':')[2]}-${i}`);
      skus.push(...mine);
      for (const [i, sku] of mine.entries()) {
        await db.Product.create({ sku, name: `chaos checks ${label}`, stock: INITIAL, perCustomerLimit: limits[i] ?? null });
      }
      const before = await readStats(server.url);
      const attempts = await buyers(server.url, mine, adminToken);
      const after = await readStats(server.url);
      const acked = new Set(attempts.filter((a) => a.orderId !== undefined).map((a) => a.orderId as number));
      const records = [];
      for (const sku of mine) records.push(await recordSku(sku, { db, store, redis, prefix }, acked));
      return { kind: 'none', initial: Object.fromEntries(mine.map((sku) => [sku, INITIAL])), attempts, faults: [], workers: [{ worker: 0, before, after }], skus: records };
    } finally {
      await server.close();
    }
  }

  it('the store as it is: every invariant holds; transactions == paid + declined, no guard refusal', async () => {
    const record = await phase('honest', [null, null], crowd);
    const { failures, summary } = checkPhase(record, OPTIONS);
    expect(failures).to.deep.equal([]);
    expect(summary.guardRefusals).to.equal(0);
    const [{ before, after }] = record.workers as [PhaseRecord['workers'][number]];
    expect(after.dbTransactions - before.dbTransactions).to.equal(after.paid - before.paid + (after.declined - before.declined));
    // The sale sold out: Redis turned the rest away itself.
    expect(record.skus.map((s) => s.dbStock)).to.deep.equal([0, 0]);
    expect(record.attempts.filter((a) => a.outcome === 409).length).to.be.above(0);
  });

  it('a limited product, the store as it is: every customer at the limit, the rest refused by it; every invariant holds', async () => {
    const record = await phase('limit-honest', [LIMIT], bursts);
    const { failures, summary } = checkPhase(record, OPTIONS);
    expect(failures).to.deep.equal([]);
    expect(record.skus[0]?.perCustomer).to.deep.equal({ c0: LIMIT, c1: LIMIT, c2: LIMIT });
    expect(record.attempts.filter((a) => a.code === LIMIT_REACHED)).to.have.length(30 - 3 * LIMIT);
    expect(summary.perCustomer).to.deep.equal({ most: LIMIT, bound: LIMIT });
  });

  it('a planted store that forgets the customer: the order rows per customer fail the phase, though books and figure agree', async () => {
    const record = await phase('limit-planted', [LIMIT], bursts, customerBlind);
    const { failures, summary } = checkPhase(record, OPTIONS);
    const [sku] = record.skus as [PhaseRecord['skus'][number]];
    expect(sku.dbStock + sku.unitsOrdered).to.equal(INITIAL);
    expect(failures.filter((f) => !/past the limit/.test(f))).to.deep.equal([]);
    const over = Object.entries(sku.perCustomer).filter(([, units]) => units > LIMIT);
    expect(over.length).to.be.above(0);
    for (const [customer, units] of over) expect(failures).to.include(`${sku.sku}: customer ${customer} has ${units} units in order rows, past the limit ${LIMIT}`);
    expect(summary.perCustomer?.most).to.be.above(LIMIT);

    // After a fault that loses Redis data the bound is the limit once per era of counts (1 + the faults): LIMIT x 3 here.
    const fault = { kind: 'del-keys' as const, start: 0, end: 0 };
    const lossy = (units: number): PhaseRecord => ({
      ...record,
      kind: 'del-keys',
      faults: [fault, fault],
      skus: [{ ...sku, perCustomer: { c0: units } }],
    });
    const limitFailures = (r: PhaseRecord) => checkPhase(r, OPTIONS).failures.filter((f) => /past the limit/.test(f));
    expect(limitFailures(lossy(3 * LIMIT))).to.deep.equal([]);
    expect(limitFailures(lossy(3 * LIMIT + 1))).to.deep.equal([
      `${sku.sku}: customer c0 has ${3 * LIMIT + 1} units in order rows, past the limit ${LIMIT} in each of 3 eras of counts (2 lossy faults)`,
    ]);
  });

  it('a planted store that over-grants, its figure never below 0: the guard refusals fail the phase, though books and reconcile agree', async () => {
    const record = await phase('planted', [null, null], crowd, overGranting);
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
