/**
 * The chaos suite (`npm run test:chaos [-- --seed N]`, or CHAOS_SEED=N).
 *
 * Three worker processes of the example shop (test/chaos/worker.ts: its
 * routes and loader, 2 s holds) against a private redis-server and the real
 * MariaDB. The sale runs one phase per fault kind, each on its own skus, so
 * that drift and 503s are charged to the fault that caused them; buyers
 * hammer the phase's skus round-robin over the workers while the injector
 * strikes at moments drawn from the seed. Afterwards, once holds have
 * expired: oversold, lost, drift (reported, then repaired by reconcile with
 * fix), double purchases per idempotency key, 5xx other than 503, 503s
 * outside a fault, hangs, and whether every worker still answers.
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

type Kind = 'del-keys' | 'flushall' | 'script-flush' | 'client-kill' | 'restart' | 'loader-fail' | 'kill-worker';
const KINDS: Kind[] = ['del-keys', 'flushall', 'script-flush', 'client-kill', 'restart', 'loader-fail', 'kill-worker'];
/** Faults that destroy Redis data (a flush can over-state by the units in flight); the others must leave no drift. */
const LOSSY = new Set<Kind>(['del-keys', 'flushall', 'restart']);

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

interface Attempt {
  kind: Kind;
  sku: string;
  qty: number;
  start: number;
  end: number;
  /** HTTP status, or 'net' (connection refused/reset), or 'timeout' (a hang). */
  outcome: number | 'net' | 'timeout';
  orderId?: number;
  idemKey?: string;
  replayed?: boolean;
  message?: string;
}

interface Fault {
  kind: Kind;
  start: number;
  end: number;
}

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
  readonly flag = join(tmpdir(), `reserve-stock-chaos-${this.suffix}.flag`);
  readonly attempts: Attempt[] = [];
  readonly faults: Fault[] = [];
  readonly workers: Worker[] = [];
  readonly skus = new Map<Kind, string[]>();
  readonly drift = new Map<string, number | null>();
  readonly driftAfterFix = new Map<string, number | null>();
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
      this.skus.set(kind, skus);
      for (const sku of skus) await this.db.Product.create({ sku, name: `chaos ${kind}`, stock: INITIAL_STOCK });
    }
    this.env = {
      ...process.env,
      REDIS_URL: this.redis.url,
      DATABASE_URL,
      CHAOS_PREFIX: this.prefix,
      CHAOS_HOLD_SECONDS: String(HOLD_SECONDS),
      CHAOS_LOADER_FLAG: this.flag,
    };
    const started = await Promise.all(Array.from({ length: WORKERS }, () => startCountingWorker(this.env, this.inDoubt)));
    this.workers.push(...started);
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

  private workerUrl(): string {
    const worker = this.workers[this.next++ % this.workers.length] as Worker;
    return `http://127.0.0.1:${worker.port}`;
  }

  /** One POST /orders with a client timeout; never throws. */
  async order(kind: Kind, sku: string, qty: number, payment: string, idemKey?: string, url = this.workerUrl(), record = true): Promise<Attempt> {
    const attempt: Attempt = { kind, sku, qty, start: Date.now(), end: 0, outcome: 'net', idemKey };
    try {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (idemKey) headers['idempotency-key'] = idemKey;
      const res = await fetch(`${url}/orders`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ sku, qty, payment }),
        signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS),
      });
      const text = await res.text();
      attempt.outcome = res.status;
      attempt.replayed = res.headers.get('idempotent-replayed') === 'true';
      try {
        const body = JSON.parse(text) as { id?: number; error?: { message?: string } };
        if (res.status === 201) attempt.orderId = body.id;
        attempt.message = body.error?.message;
      } catch {
        attempt.message = text.slice(0, 200);
      }
    } catch (error) {
      attempt.outcome = (error as Error).name === 'TimeoutError' ? 'timeout' : 'net';
      attempt.message = String((error as Error & { cause?: Error }).cause?.message ?? (error as Error).message);
    } finally {
      attempt.end = Date.now();
      if (record) this.attempts.push(attempt);
    }
    return attempt;
  }

  /** One buyer's turn: a plain order, or an idempotent one with retries and a duplicate. */
  async buy(kind: Kind, active: string[]): Promise<void> {
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
        break;
      }
    }
    fault.end = Date.now();
  }

  async phase(kind: Kind): Promise<void> {
    const skus = this.skus.get(kind) as string[];
    const active = kind === 'loader-fail' ? [skus[0] as string] : [...skus];
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
    for (const sku of skus) {
      const stock = await this.dbStock(sku);
      const report = await this.store.reconcile(sku, stock);
      this.drift.set(sku, report.drift);
      const fixed = await this.store.reconcile(sku, stock, { fix: true });
      const after = fixed.fixed ? (await this.store.reconcile(sku, await this.dbStock(sku))).drift : fixed.drift;
      this.driftAfterFix.set(sku, after);
    }
    let left = 0;
    for (const sku of skus) left += await this.dbStock(sku);
    process.stdout.write(`  ${kind}: ${this.attempts.filter((a) => a.kind === kind).length} requests, ${left} of ${skus.length * INITIAL_STOCK} units left\n`);
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

interface Row {
  kind: Kind;
  injected: number;
  requests: number;
  during: number;
  sold: number;
  s503: number;
  net: number;
  drift: string;
  /** In-doubt holds the sweeps settled: committed/released. */
  inDoubt: string;
  fixed: string;
  ok: boolean;
}

function overlaps(a: Attempt, faults: Fault[], graceMs: number): boolean {
  return faults.some((f) => a.start <= f.end + graceMs && a.end >= f.start);
}

async function check(chaos: Chaos): Promise<Row[]> {
  const rows: Row[] = [];
  const { attempts, faults } = chaos;
  const ackedIds = new Set(attempts.filter((a) => a.orderId !== undefined).map((a) => a.orderId as number));
  for (const kind of KINDS) {
    const before = chaos.failures.length;
    const mine = attempts.filter((a) => a.kind === kind);
    const myFaults = faults.filter((f) => f.kind === kind);
    const skus = chaos.skus.get(kind) as string[];

    // No 5xx but 503; 503 only around a fault; connection errors only when a worker was killed; no hang.
    for (const a of mine) {
      const tag = `${kind} ${a.sku} POST /orders at +${a.start - (mine[0] as Attempt).start} ms`;
      if (a.outcome === 'timeout') chaos.fail(`${tag}: no answer within ${CLIENT_TIMEOUT_MS} ms (hang)`);
      else if (a.outcome === 'net') {
        if (kind !== 'kill-worker' || !overlaps(a, myFaults, 1000)) chaos.fail(`${tag}: connection error ${a.message}`);
      } else if (a.outcome >= 500 && a.outcome !== 503) chaos.fail(`${tag}: ${a.outcome} ${a.message ?? ''}`);
      else if (a.outcome === 503 && !overlaps(a, myFaults, GRACE_MS)) chaos.fail(`${tag}: 503 outside any fault (${a.message ?? ''})`);
    }

    // Oversold: committed order units <= initial, and database stock + units sold == initial.
    for (const sku of skus) {
      const orders = await chaos.db.Order.findAll({ where: { sku }, attributes: ['id', 'qty', 'status'] });
      const sold = orders.reduce((sum, o) => sum + o.qty, 0);
      const stock = await chaos.dbStock(sku);
      if (sold > INITIAL_STOCK) chaos.fail(`${sku}: oversold, ${sold} units in orders > ${INITIAL_STOCK}`);
      if (stock + sold !== INITIAL_STOCK) chaos.fail(`${sku}: database stock ${stock} + sold ${sold} != ${INITIAL_STOCK}`);
      if (stock < 0) chaos.fail(`${sku}: database stock ${stock} < 0`);
      const unacked = orders.filter((o) => !ackedIds.has(o.id)).length;
      // An order nobody was told of is only possible for a request that got no answer.
      const unanswered = mine.filter((a) => a.sku === sku && (a.outcome === 'net' || a.outcome === 'timeout')).length;
      if (unacked > unanswered) chaos.fail(`${sku}: ${unacked} orders no client was told of, but only ${unanswered} requests went unanswered`);
    }

    // Drift at the end of the phase: none for faults that lose no data; for lossy ones at most the units in flight.
    let driftSum = 0;
    let fixedSum = 0;
    for (const sku of skus) {
      const d = chaos.drift.get(sku) ?? 0;
      const after = chaos.driftAfterFix.get(sku) ?? 0;
      driftSum += d ?? 0;
      fixedSum += after ?? 0;
      if (d !== null && d < 0) chaos.fail(`${sku}: Redis under-states by ${-d} (lost units)`);
      if (after !== null && after !== 0) chaos.fail(`${sku}: drift ${after} after reconcile with fix`);
    }
    // Units of the requests in flight at some moment of a fault: what a lossy fault may over-state by.
    const flight = mine.filter((a) => overlaps(a, myFaults, 0)).reduce((sum, a) => sum + a.qty, 0);
    if (LOSSY.has(kind)) {
      if (driftSum > flight) chaos.fail(`${kind}: drift ${driftSum} exceeds the ${flight} units in flight at the faults`);
    } else if (driftSum !== 0) chaos.fail(`${kind}: drift ${driftSum} from a fault that loses no data`);
    const inDoubt = skus.map((sku) => chaos.inDoubt.get(sku) ?? { committed: 0, released: 0 });

    // No double purchase per idempotency key, whatever the fault: a replay answers the same order, and
    // when a flush or restart took Redis's record of the key, the orders table's unique key does.
    const byKey = new Map<string, Attempt[]>();
    for (const a of mine) if (a.idemKey) byKey.set(a.idemKey, [...(byKey.get(a.idemKey) ?? []), a]);
    for (const [key, tries] of byKey) {
      const ids = new Set(tries.filter((a) => a.outcome === 201).map((a) => a.orderId));
      if (ids.size > 1) chaos.fail(`${key}: ${ids.size} orders (${[...ids].join(', ')}) for one Idempotency-Key`);
    }

    rows.push({
      kind,
      injected: myFaults.length,
      requests: mine.length,
      during: mine.filter((a) => overlaps(a, myFaults, GRACE_MS)).length,
      sold: mine.filter((a) => a.outcome === 201 && !a.replayed).length,
      s503: mine.filter((a) => a.outcome === 503).length,
      net: mine.filter((a) => a.outcome === 'net').length,
      drift: LOSSY.has(kind) ? `${driftSum} (<= ${flight})` : String(driftSum),
      inDoubt: `${inDoubt.reduce((sum, c) => sum + c.committed, 0)}/${inDoubt.reduce((sum, c) => sum + c.released, 0)}`,
      fixed: String(fixedSum),
      ok: chaos.failures.length === before,
    });
  }
  return rows;
}

/** After every fault: every worker answers, Redis never under-states, and a sell-out sells exactly the database stock. */
async function finalChecks(chaos: Chaos): Promise<{ sold: number; expected: number }> {
  for (const w of chaos.workers) {
    const sku = chaos.allSkus()[0] as string;
    const res = await fetch(`http://127.0.0.1:${w.port}/products/${sku}`, { signal: AbortSignal.timeout(5000) }).catch(() => null);
    if (!res || res.status !== 200) chaos.fail(`worker on port ${w.port} does not answer after the faults (${res?.status ?? 'no answer'})`);
  }
  let sold = 0;
  let expected = 0;
  for (const sku of chaos.allSkus()) {
    const stock = await chaos.dbStock(sku);
    const report = await chaos.store.reconcile(sku, stock);
    if (report.redis !== null && report.redis + report.held < stock) chaos.fail(`${sku}: Redis ${report.redis} + held ${report.held} < database ${stock}`);
    if (report.drift !== null && report.drift !== 0) chaos.fail(`${sku}: drift ${report.drift} at the end`);
    expected += stock;
    let mine = 0;
    while (mine < stock) {
      const qty = Math.min(250, stock - mine);
      const a = await chaos.order('kill-worker', sku, qty, 'card', undefined, undefined, false);
      if (a.outcome !== 201) {
        chaos.fail(`${sku}: sell-out of ${qty} with ${stock - mine} left in the database answered ${a.outcome} ${a.message ?? ''}`);
        break;
      }
      mine += qty;
    }
    const last = await chaos.order('kill-worker', sku, 1, 'card', undefined, undefined, false);
    if (last.outcome !== 409) chaos.fail(`${sku}: after the sell-out one more unit answered ${last.outcome}, not 409`);
    sold += mine;
    const left = await chaos.dbStock(sku);
    if (mine !== stock || left !== 0) chaos.fail(`${sku}: the sell-out sold ${mine} of the database's ${stock} (database now ${left})`);
  }
  return { sold, expected };
}

function table(rows: Row[]): string {
  const head = ['fault', 'injected', 'requests', 'during', 'orders', '503s', 'conn errors', 'in doubt c/r', 'drift', 'after fix', 'invariants'];
  const body = rows.map((r) => [
    r.kind,
    String(r.injected),
    String(r.requests),
    String(r.during),
    String(r.sold),
    String(r.s503),
    String(r.net),
    r.inDoubt,
    r.drift,
    r.fixed,
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
    chaos.tearDown().finally(() => process.exit(code));
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
    const rows = await check(chaos);
    const { sold, expected } = await finalChecks(chaos);
    const total = chaos.attempts.length;
    const counts = (pred: (a: Attempt) => boolean) => chaos.attempts.filter(pred).length;
    console.log('');
    console.log(table(rows));
    console.log('');
    console.log(
      `${total} requests: ${counts((a) => a.outcome === 201)} sold, ${counts((a) => a.outcome === 402)} declined, ` +
        `${counts((a) => a.outcome === 409)} 409, ${counts((a) => a.outcome === 503)} 503, ${counts((a) => a.outcome === 'net')} connection errors, ` +
        `${counts((a) => a.outcome === 'timeout')} hangs; ${counts((a) => a.replayed === true)} idempotent replays`,
    );
    console.log(`final sell-out through the app: ${sold} of ${expected} units in the database; every worker answered: ${chaos.failures.some((f) => f.startsWith('worker')) ? 'no' : 'yes'}`);
    console.log(`seed ${seed}, ${((Date.now() - began) / 1000).toFixed(1)} s`);
    if (chaos.failures.length > 0) {
      console.log(`\n${chaos.failures.length} invariant failure(s):`);
      for (const f of chaos.failures.slice(0, 40)) console.log(`  - ${f}`);
      return 1;
    }
    console.log('oversold 0, lost 0, drift repaired, no double purchase, no stray 5xx, no hang: all invariants hold');
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
