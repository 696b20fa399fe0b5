/**
 * The chaos suite (`npm run test:chaos [-- --seed N]`, or CHAOS_SEED=N).
 *
 * Three worker processes of the example shop (test/chaos/worker.ts: the app
 * itself, 2 s holds) against a private redis-server and the real MariaDB.
 * The sale runs a control phase with no fault, then one phase per fault
 * kind, each on its own skus, so that drift, guard refusals and 503s are
 * charged to the fault that caused them; buyers hammer the phase's skus
 * round-robin over the workers while the injector strikes at moments drawn
 * from the seed. After each phase, once holds have expired, it records every
 * answer, each worker's `GET /stats`, and per sku the database's books and
 * the figure (a plain GET beside reconcile, which then fixes it); the
 * invariants (./checks.ts) are checked on those records: oversold, lost,
 * drift, the database's transactions against the answers, guard refusals,
 * double purchases per idempotency key, 5xx other than 503, 503s outside a
 * fault, hangs, and whether every worker still answers. Each phase also
 * sells a product limited per customer, which a few named customers
 * (X-Customer-Id) hit with bursts of parallel orders: the order rows must
 * show none past the limit (past a bound, after a fault that loses Redis
 * data: see checkLimits). And each phase's second sku is scarce: it sells out
 * early, so that the workers answer its later orders from their sold-out
 * memory (soldOutCacheMs) through the fault, under the same invariants; the
 * run fails if no answer ever came from memory.
 * Exits 1 when any invariant fails. Only loopback addresses; every fault goes
 * to the private redis-server, never the shared one.
 */
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { Op } from 'sequelize';
import { createStockStore, stockKeys, type StockStore } from '../../lib';
import { createDatabase, prepareDatabase, type Database } from '../../example/db/database';
import { rawCommand, RedisServer } from '../helpers/redis-server';
import { startWorker, stopWorker, type Worker } from '../helpers/shop-workers';
import {
  checkPhase,
  KINDS,
  LIMIT_REACHED,
  LOSSY,
  SOLD_OUT,
  type Attempt,
  type Fault,
  type Kind,
  type PhaseRecord,
  type PhaseSummary,
  type WorkerTally,
} from './checks';
import { attemptOrder, readSoldOut, readStats, recordSku } from './record';

const DATABASE_URL = process.env.DATABASE_URL || 'mysql://root@127.0.0.1:3306/test';
const WORKERS = 3;
const HOLD_SECONDS = 2;
const PHASE_MS = 11_000;
const INJECTIONS_PER_PHASE = 2;
const CONCURRENCY = 12;
const CLIENT_TIMEOUT_MS = 10_000;
/** A request that overlaps a fault or this long after it may answer 503. */
const GRACE_MS = 4_000;
const INITIAL_STOCK = 4000;
const SKUS_PER_PHASE = 2;
/**
 * The stock of each phase's second sku (all but loader-fail's): it sells out
 * early in the phase, so that the rest of its orders are sold-out answers,
 * most of them from the workers' memory (soldOutCacheMs), through the fault.
 */
const SCARCE_STOCK = 50;
/** Each phase's limited product: its per-customer limit, the customers who buy it, and how they buy. */
const LIMIT = 3;
const LIMITED_CUSTOMERS = 5;
/** Orders a customer sends at once, each of 1 or 2 units. */
const BURST = 3;
/** The share of the buyers' turns that are a burst at the limited product. */
const LIMITED_SHARE = 0.15;

// ---- seeded randomness -------------------------------------------------------

function readSeed(): number {
  const i = process.argv.indexOf('--seed');
  const raw = i >= 0 ? process.argv[i + 1] : process.env.CHAOS_SEED;
  if (raw !== undefined && raw !== '') {
    const seed = Number(raw);
    if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`--seed must be a whole number >= 0, not ${raw}`);
    return seed;
  }
  return randomBytes(4).readUInt32BE(0);
}

/** mulberry32: a small seeded generator, enough for a replayable schedule. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---- records -----------------------------------------------------------------

/** How many in-doubt holds (a killed worker's) the workers' sweeps settled, per sku. */
type InDoubtCounts = Map<string, { committed: number; released: number }>;

/** A worker whose `in-doubt {...}` lines (its sweeps' reports) are added to `inDoubt`. */
function startCountingWorker(env: NodeJS.ProcessEnv, inDoubt: InDoubtCounts): Promise<Worker> {
  return startWorker(env, (line) => {
    if (!line.startsWith('in-doubt ')) return;
    const { key, committed, released } = JSON.parse(line.slice('in-doubt '.length)) as { key: string; committed: number; released: number };
    const counts = inDoubt.get(key) ?? { committed: 0, released: 0 };
    inDoubt.set(key, { committed: counts.committed + committed, released: counts.released + released });
  });
}

// ---- the suite ---------------------------------------------------------------

class Chaos {
  /** The buyers' draws; their order depends on timing, so only the schedule below replays exactly. */
  readonly rand: () => number;
  /** The fault schedule, drawn once from the seed: per kind, offsets into its phase and a worker per strike. */
  readonly schedule = new Map<Kind, { offsets: number[]; victims: number[] }>();
  readonly suffix = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  readonly prefix = `chaos:${this.suffix}:`;
  /**
   * The workers' admin token, with which buyers name themselves in
   * X-Customer-Id: an idempotent buyer (a key is its customer's), and the
   * buyers of the limited products.
   */
  readonly adminToken = randomBytes(18).toString('base64url');
  readonly flag = join(tmpdir(), `reserve-stock-chaos-${this.suffix}.flag`);
  readonly attempts: Attempt[] = [];
  readonly faults: Fault[] = [];
  readonly workers: Worker[] = [];
  /** Each worker slot's process: a number of its own, new when a killed worker is started again. */
  readonly workerIds: number[] = [];
  private started = 0;
  /** Each phase's skus; the last one is its limited product (see `limited`). */
  readonly skus = new Map<Kind, string[]>();
  readonly limited = new Map<Kind, string>();
  /** The skus whose stock is not INITIAL_STOCK (see SCARCE_STOCK). */
  private readonly initial = new Map<string, number>();
  /** Cached sold-out answers of the workers that lived through each phase, summed. */
  soldOutFromMemory = 0;

  initialOf(sku: string): number {
    return this.initial.get(sku) ?? INITIAL_STOCK;
  }
  readonly records: PhaseRecord[] = [];
  readonly inDoubt: InDoubtCounts = new Map();
  readonly failures: string[] = [];
  private next = 0;
  private idem = 0;
  redis!: RedisServer;
  client!: Redis;
  store!: StockStore;
  db!: Database;
  env!: NodeJS.ProcessEnv;

  constructor(readonly seed: number) {
    this.rand = generator(seed ^ 0x5eed);
    const draw = generator(seed);
    // Moments in [1 s, PHASE_MS - 4 s], at least 2.5 s apart.
    const span = PHASE_MS - 5000 - (INJECTIONS_PER_PHASE - 1) * 2500;
    for (const kind of KINDS) {
      if (kind === 'none') continue; // the control phase: no fault
      const raw = Array.from({ length: INJECTIONS_PER_PHASE }, () => Math.floor(draw() * span)).sort((a, b) => a - b);
      const offsets = raw.map((o, i) => 1000 + o + i * 2500);
      const victims = Array.from({ length: INJECTIONS_PER_PHASE }, () => Math.floor(draw() * WORKERS));
      this.schedule.set(kind, { offsets, victims });
    }
  }

  fail(message: string): void {
    this.failures.push(message);
  }

  allSkus(): string[] {
    return [...this.skus.values()].flat();
  }

  async setUp(): Promise<void> {
    this.db = createDatabase(DATABASE_URL, { pool: { max: 5 } });
    await prepareDatabase(this.db);
    this.redis = await RedisServer.start();
    this.client = new Redis(this.redis.url);
    this.store = createStockStore({ redis: this.client, prefix: this.prefix, holdSeconds: HOLD_SECONDS });
    for (const kind of KINDS) {
      const count = kind === 'loader-fail' ? 1 + INJECTIONS_PER_PHASE : SKUS_PER_PHASE;
      const skus = Array.from({ length: count }, (_, i) => `chaos-${this.suffix}-${kind}-${i}`);
      if (kind !== 'loader-fail') this.initial.set(skus[1] as string, SCARCE_STOCK);
      for (const sku of skus) await this.db.Product.create({ sku, name: `chaos ${kind}`, stock: this.initialOf(sku) });
      const limited = `chaos-${this.suffix}-${kind}-limited`;
      await this.db.Product.create({ sku: limited, name: `chaos ${kind}, ${LIMIT} per customer`, stock: INITIAL_STOCK, perCustomerLimit: LIMIT });
      this.skus.set(kind, [...skus, limited]);
      this.limited.set(kind, limited);
    }
    this.env = {
      ...process.env,
      REDIS_URL: this.redis.url,
      DATABASE_URL,
      CHAOS_PREFIX: this.prefix,
      CHAOS_HOLD_SECONDS: String(HOLD_SECONDS),
      CHAOS_LOADER_FLAG: this.flag,
      CHAOS_ADMIN_TOKEN: this.adminToken,
    };
    const started = await Promise.all(Array.from({ length: WORKERS }, () => startCountingWorker(this.env, this.inDoubt)));
    this.workers.push(...started);
    this.workerIds.push(...started.map(() => this.started++));
  }

  private torn: Promise<void> | undefined;

  /** Stops the workers and the redis-server and deletes the suite's rows; once, however often called. */
  tearDown(): Promise<void> {
    this.torn ??= this.stopAll();
    return this.torn;
  }

  private async stopAll(): Promise<void> {
    rmSync(this.flag, { force: true });
    await Promise.all(this.workers.map((w) => stopWorker(w).catch(() => undefined)));
    this.client?.disconnect();
    await this.redis?.dispose().catch(() => undefined);
    if (this.db) {
      const skus = this.allSkus();
      if (skus.length > 0) {
        await this.db.Order.destroy({ where: { sku: { [Op.in]: skus } } }).catch(() => undefined);
        await this.db.Product.destroy({ where: { sku: { [Op.in]: skus } } }).catch(() => undefined);
      }
      await this.db.sequelize.close().catch(() => undefined);
    }
  }

  private urlOf(i: number): string {
    return `http://127.0.0.1:${(this.workers[i] as Worker).port}`;
  }

  /** One POST /orders to the next worker (round-robin), recorded; never throws. `customer`: sent as X-Customer-Id. */
  async order(kind: Kind, sku: string, qty: number, payment: string, idemKey?: string, record = true, customer?: string): Promise<Attempt> {
    const i = this.next++ % this.workers.length;
    // A buyer named in X-Customer-Id; an idempotent buyer's retries, at whichever worker, are one customer's: the key's own.
    const id = customer ?? idemKey;
    const named = id === undefined ? undefined : { id, adminToken: this.adminToken };
    const attempt = await attemptOrder(this.urlOf(i), this.workerIds[i] as number, { kind, sku, qty, payment, idemKey, customer: named }, CLIENT_TIMEOUT_MS);
    if (record) this.attempts.push(attempt);
    return attempt;
  }

  /** One of a few customers fires BURST orders at once at the phase's limited product (a bot, a buyer with many tabs). */
  async burst(kind: Kind): Promise<void> {
    const sku = this.limited.get(kind) as string;
    const customer = `chaos-c${Math.floor(this.rand() * LIMITED_CUSTOMERS)}`;
    const orders = Array.from({ length: BURST }, () => ({ qty: 1 + Math.floor(this.rand() * 2), payment: this.rand() < 0.2 ? 'decline' : 'card' }));
    await Promise.all(orders.map(({ qty, payment }) => this.order(kind, sku, qty, payment, undefined, true, customer)));
  }

  /** One buyer's turn: a burst at the limited product, a plain order, or an idempotent one with retries and a duplicate. */
  async buy(kind: Kind, active: string[]): Promise<void> {
    if (this.rand() < LIMITED_SHARE) {
      await this.burst(kind);
      return;
    }
    const sku = active[Math.floor(this.rand() * active.length)] as string;
    const qty = 1 + Math.floor(this.rand() * 3);
    const payment = this.rand() < 0.2 ? 'decline' : 'card';
    if (this.rand() >= 0.25) {
      await this.order(kind, sku, qty, payment);
      return;
    }
    const key = `chaos-${this.suffix}-k${this.idem++}`;
    const duplicate = this.rand() < 0.5;
    for (let i = 0; i < 4; i++) {
      const a = await this.order(kind, sku, qty, payment, key);
      const retry = a.outcome === 503 || a.outcome === 'net' || (a.outcome === 409 && /in progress/.test(a.message ?? ''));
      if (!retry) {
        if (duplicate) await this.order(kind, sku, qty, payment, key);
        return;
      }
      await sleep(150);
    }
  }

  /** Strikes once; resolves when the fault is over. */
  async inject(kind: Kind, index: number, active: string[]): Promise<void> {
    const fault: Fault = { kind, start: Date.now(), end: 0 };
    this.faults.push(fault);
    const port = this.redis.port;
    switch (kind) {
      case 'del-keys':
        for (const sku of this.skus.get(kind) as string[]) {
          const keys = stockKeys(this.prefix, sku);
          await this.client.del(...keys.holds, keys.lock);
        }
        break;
      case 'flushall':
        await rawCommand(port, 'FLUSHALL', 3000);
        break;
      case 'script-flush':
        await rawCommand(port, 'SCRIPT FLUSH', 3000);
        break;
      case 'client-kill':
        await rawCommand(port, 'CLIENT KILL TYPE normal', 3000);
        break;
      case 'restart':
        await this.redis.restart();
        break;
      case 'loader-fail': {
        // The loader only runs for a missing figure: a sku nobody has loaded yet joins the sale while it fails.
        writeFileSync(this.flag, 'failing');
        active.push((this.skus.get(kind) as string[])[index + 1] as string);
        await sleep(1500);
        rmSync(this.flag, { force: true });
        break;
      }
      case 'kill-worker': {
        const i = (this.schedule.get(kind)?.victims[index] ?? 0) % this.workers.length;
        const victim = this.workers[i] as Worker;
        await stopWorker(victim, 'SIGKILL');
        this.workers[i] = await startCountingWorker(this.env, this.inDoubt);
        this.workerIds[i] = this.started++;
        break;
      }
    }
    fault.end = Date.now();
  }

  async phase(kind: Kind): Promise<void> {
    const skus = this.skus.get(kind) as string[];
    // The limited product is bought by bursts (see buy), not from here.
    const active = kind === 'loader-fail' ? [skus[0] as string] : skus.filter((sku) => sku !== this.limited.get(kind));
    const statsBefore = await this.perWorker(readStats);
    const soldOutBefore = await this.perWorker(readSoldOut);
    const begin = Date.now();
    const stopAt = begin + PHASE_MS;
    const moments = (this.schedule.get(kind)?.offsets ?? []).map((o) => begin + o);
    const injector = (async () => {
      for (const [i, at] of moments.entries()) {
        await sleep(Math.max(0, at - Date.now()));
        await this.inject(kind, i, active);
      }
    })();
    const buyers = Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < stopAt) await this.buy(kind, active);
    });
    await Promise.all([injector, ...buyers]);
    await this.holdsSettled(skus);
    // The workers that lived through the phase (a killed one took its counts with it).
    const workers: WorkerTally[] = [];
    const soldOut = { memory: 0, redis: 0 };
    for (const [i, worker] of this.workerIds.entries()) {
      const before = statsBefore.get(worker);
      if (before) workers.push({ worker, before, after: await readStats(this.urlOf(i)) });
      const counted = soldOutBefore.get(worker);
      if (!counted) continue;
      const now = await readSoldOut(this.urlOf(i));
      soldOut.memory += now.memory - counted.memory;
      soldOut.redis += now.redis - counted.redis;
    }
    const attempts = this.attempts.filter((a) => a.kind === kind);
    const acked = new Set(attempts.filter((a) => a.orderId !== undefined).map((a) => a.orderId as number));
    const services = { db: this.db, store: this.store, redis: this.client, prefix: this.prefix };
    const records = [];
    for (const sku of skus) records.push(await recordSku(sku, services, acked));
    const initial = Object.fromEntries(skus.map((sku) => [sku, this.initialOf(sku)]));
    this.records.push({ kind, initial, attempts, faults: this.faults.filter((f) => f.kind === kind), workers, skus: records });
    this.soldOutFromMemory += soldOut.memory;
    const left = records.reduce((sum, r) => sum + r.dbStock, 0);
    process.stdout.write(
      `  ${kind}: ${attempts.length} requests, ${left} of ${Object.values(initial).reduce((sum, n) => sum + n, 0)} units left; ` +
        `sold-out answers of the workers that lived through it: ${soldOut.memory} from memory, ${soldOut.redis} from Redis\n`,
    );
  }

  /** What `read` answers for each worker, by the worker's id. */
  private async perWorker<T>(read: (url: string) => Promise<T>): Promise<Map<number, T>> {
    return new Map(await Promise.all(this.workers.map(async (_, i) => [this.workerIds[i] as number, await read(this.urlOf(i))] as const)));
  }

  /**
   * Waits until the phase's holds have had their time (a killed worker's
   * expire; its prepared ones fall in doubt) and the workers' sweeps have
   * settled every in-doubt hold; background commits retried after a fault
   * land meanwhile. A hold still in doubt after that is a failure.
   */
  async holdsSettled(skus: string[]): Promise<void> {
    await sleep(HOLD_SECONDS * 1000 + 500);
    const deadline = Date.now() + 10_000;
    for (const sku of skus) {
      while ((await this.store.getHolds(sku)).inDoubt > 0) {
        if (Date.now() > deadline) {
          this.fail(`${sku}: holds still in doubt 10 s after they fell due`);
          break;
        }
        await sleep(200);
      }
    }
  }

  async dbStock(sku: string): Promise<number> {
    const product = await this.db.Product.findOne({ where: { sku }, attributes: ['stock'] });
    if (!product) throw new Error(`product ${sku} is gone`);
    return product.stock;
  }
}

// ---- invariants --------------------------------------------------------------

interface Row extends PhaseSummary {
  kind: Kind;
  injected: number;
  /** In-doubt holds the sweeps settled: committed/released. */
  inDoubt: string;
  ok: boolean;
}

/** Every phase's invariants (./checks.ts) on its records. */
function check(chaos: Chaos): Row[] {
  return chaos.records.map((record) => {
    const { failures, summary } = checkPhase(record, { graceMs: GRACE_MS, clientTimeoutMs: CLIENT_TIMEOUT_MS });
    for (const f of failures) chaos.fail(f);
    const inDoubt = record.skus.map(({ sku }) => chaos.inDoubt.get(sku) ?? { committed: 0, released: 0 });
    return {
      kind: record.kind,
      injected: record.faults.length,
      ...summary,
      inDoubt: `${inDoubt.reduce((sum, c) => sum + c.committed, 0)}/${inDoubt.reduce((sum, c) => sum + c.released, 0)}`,
      ok: failures.length === 0,
    };
  });
}

/**
 * After every fault: every worker answers, Redis never under-states, and a
 * sell-out sells exactly the database stock, after which one more unit is
 * Redis's sold-out 409, not the database guard's. A figure missing by then
 * is counted as missing (the sell-out loads it), never as drift 0. A limited
 * product's limit is cleared first through the admin route (database, then
 * Redis), so that one buyer can take the rest.
 */
async function finalChecks(chaos: Chaos): Promise<{ sold: number; expected: number; missing: number }> {
  for (const w of chaos.workers) {
    const sku = chaos.allSkus()[0] as string;
    const res = await fetch(`http://127.0.0.1:${w.port}/products/${sku}`, { signal: AbortSignal.timeout(5000) }).catch(() => null);
    if (!res || res.status !== 200) chaos.fail(`worker on port ${w.port} does not answer after the faults (${res?.status ?? 'no answer'})`);
  }
  let sold = 0;
  let expected = 0;
  let missing = 0;
  for (const sku of chaos.allSkus()) {
    const stock = await chaos.dbStock(sku);
    const report = await chaos.store.reconcile(sku, stock);
    const plain = await chaos.client.get(stockKeys(chaos.prefix, sku).stock);
    if (plain === null) missing++;
    else if (Number(plain) !== report.redis) chaos.fail(`${sku}: GET reads ${plain} at the end, reconcile reported ${String(report.redis)}`);
    else if (report.redis + report.held < stock) chaos.fail(`${sku}: Redis ${report.redis} + held ${report.held} < database ${stock}`);
    else if (report.drift !== 0) chaos.fail(`${sku}: drift ${String(report.drift)} at the end`);
    expected += stock;
    if ([...chaos.limited.values()].includes(sku)) await clearLimit(chaos, sku);
    let mine = 0;
    while (mine < stock) {
      const qty = Math.min(250, stock - mine);
      const a = await chaos.order('kill-worker', sku, qty, 'card', undefined, false);
      if (a.outcome !== 201) {
        chaos.fail(`${sku}: sell-out of ${qty} with ${stock - mine} left in the database answered ${a.outcome} ${a.message ?? ''}`);
        break;
      }
      mine += qty;
    }
    const last = await chaos.order('kill-worker', sku, 1, 'card', undefined, false);
    if (last.outcome !== 409 || last.code !== SOLD_OUT) {
      chaos.fail(`${sku}: after the sell-out one more unit answered ${last.outcome} ${last.code ?? ''}, not Redis's 409 ${SOLD_OUT}`);
    }
    sold += mine;
    const left = await chaos.dbStock(sku);
    if (mine !== stock || left !== 0) chaos.fail(`${sku}: the sell-out sold ${mine} of the database's ${stock} (database now ${left})`);
  }
  return { sold, expected, missing };
}

/** PUT /products/:sku/limit { perCustomerLimit: null } on a worker; a failure if it is not a 200. */
async function clearLimit(chaos: Chaos, sku: string): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${(chaos.workers[0] as Worker).port}/products/${sku}/limit`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${chaos.adminToken}` },
    body: JSON.stringify({ perCustomerLimit: null }),
    signal: AbortSignal.timeout(5000),
  }).catch((error: unknown) => ({ status: String(error) }));
  if (res.status !== 200) chaos.fail(`${sku}: clearing its limit before the sell-out answered ${res.status}`);
}

function table(rows: Row[]): string {
  const head = ['fault', 'injected', 'requests', 'during', 'orders', 'db tx', 'guard 409s', '503s', 'conn errors', 'in doubt c/r', 'drift', 'missing', 'after fix', 'per customer', 'invariants'];
  const body = rows.map((r) => [
    r.kind,
    String(r.injected),
    String(r.requests),
    String(r.during),
    String(r.sold),
    String(r.transactions),
    LOSSY.has(r.kind) ? `${r.guardRefusals} (<= ${r.flight})` : String(r.guardRefusals),
    String(r.s503),
    String(r.net),
    r.inDoubt,
    LOSSY.has(r.kind) ? `${r.drift} (<= ${r.flight})` : String(r.drift),
    String(r.missing),
    String(r.driftAfterFix),
    r.perCustomer ? `${r.perCustomer.most} (<= ${r.perCustomer.bound})` : '-',
    r.ok ? 'pass' : 'FAIL',
  ]);
  const all = [head, ...body];
  const widths = head.map((_, i) => Math.max(...all.map((row) => (row[i] as string).length)));
  return all.map((row) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ')).join('\n');
}

async function main(): Promise<number> {
  const seed = readSeed();
  const began = Date.now();
  console.log(`chaos seed ${seed} (replay: npm run test:chaos -- --seed ${seed})`);
  const chaos = new Chaos(seed);
  // Over budget or interrupted: clean up what was started (servers, workers, rows), then leave.
  const abandon = (why: string, code: number) => {
    console.error(`chaos: ${why}; stopping everything it started`);
    const force = setTimeout(() => process.exit(code), 10_000);
    force.unref();
    const exit = () => process.exit(code);
    // Leaves either way: a clean-up that failed must not keep the process up.
    chaos.tearDown().then(exit, (error: unknown) => {
      console.error('chaos: clean-up failed:', error);
      exit();
    });
  };
  const watchdog = setTimeout(() => abandon('over the 3-minute budget', 2), 170_000);
  process.once('SIGINT', () => abandon('interrupted', 130));
  process.once('SIGTERM', () => abandon('terminated', 143));
  try {
    await chaos.setUp();
    console.log(`${WORKERS} workers, private redis-server on port ${chaos.redis.port}, holds ${HOLD_SECONDS} s, ${PHASE_MS / 1000} s per fault kind`);
    const plan = KINDS.map((k) => `${k} @${(chaos.schedule.get(k)?.offsets ?? []).map((o) => (o / 1000).toFixed(1)).join('/')}s`);
    console.log(`schedule: ${plan.join(', ')}`);
    for (const kind of KINDS) await chaos.phase(kind);
    const rows = check(chaos);
    // The limited products were put to the test: some orders met the limit.
    const limitRefusals = chaos.attempts.filter((a) => a.outcome === 409 && a.code === LIMIT_REACHED).length;
    if (limitRefusals === 0) chaos.fail(`no order met a per-customer limit (${LIMIT_REACHED}): the limited products were never put to the test`);
    // The scarce skus sold out: the workers' sold-out memory answered some of their orders, under every invariant above.
    if (chaos.soldOutFromMemory === 0) chaos.fail('no sold-out answer came from memory: the sold-out cache was never put to the test');
    const { sold, expected, missing } = await finalChecks(chaos);
    const total = chaos.attempts.length;
    const counts = (pred: (a: Attempt) => boolean) => chaos.attempts.filter(pred).length;
    console.log('');
    console.log(table(rows));
    console.log('');
    console.log(
      `${total} requests: ${counts((a) => a.outcome === 201)} sold, ${counts((a) => a.outcome === 402)} declined, ` +
        `${counts((a) => a.outcome === 409)} 409, ${counts((a) => a.outcome === 503)} 503, ${counts((a) => a.outcome === 'net')} connection errors, ` +
        `${counts((a) => a.outcome === 'timeout')} hangs; ${counts((a) => a.replayed === true)} idempotent replays; ` +
        `${counts((a) => a.customer !== undefined)} by named customers at limited products, ${limitRefusals} of them refused at the limit (${LIMIT} per customer)`,
    );
    console.log(
      `final sell-out through the app: ${sold} of ${expected} units in the database (${missing} figure(s) missing before it, loaded by it); ` +
        `every worker answered: ${chaos.failures.some((f) => f.startsWith('worker')) ? 'no' : 'yes'}`,
    );
    console.log(`seed ${seed}, ${((Date.now() - began) / 1000).toFixed(1)} s`);
    if (chaos.failures.length > 0) {
      console.log(`\n${chaos.failures.length} invariant failure(s):`);
      for (const f of chaos.failures.slice(0, 40)) console.log(`  - ${f}`);
      return 1;
    }
    console.log(
      'oversold 0, lost 0, every transaction accounted for, guard refusals only after lossy faults, drift repaired, no double purchase, ' +
        'no customer past the limit (past one limit per era of counts after a lossy fault), no stray 5xx, no hang: all invariants hold',
    );
    return 0;
  } finally {
    clearTimeout(watchdog);
    await chaos.tearDown();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
