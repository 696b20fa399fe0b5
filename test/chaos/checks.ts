/**
 * The chaos suite's invariants, as functions of what a phase recorded: the
 * buyers' answers, the faults, each worker's `GET /stats`, and per sku the
 * database's books, the figure read with a plain GET and what reconcile
 * said. Nothing here asks the store: a store that lies about itself is
 * caught by the database and the answers. test/chaos/run.ts records the
 * phases of a real run; test/chaos-checks.test.ts feeds a phase run against
 * a planted store that over-grants, to show these checks fail on it.
 */
import type { OrderStats } from '../../example/ops/metrics';

/** The phases: a control phase with no fault, then one per fault kind. */
export const KINDS = ['none', 'del-keys', 'flushall', 'script-flush', 'client-kill', 'restart', 'loader-fail', 'kill-worker'] as const;
export type Kind = (typeof KINDS)[number];

/** Faults that destroy Redis data: a figure reloaded then over-states by the units in flight. */
export const LOSSY = new Set<Kind>(['del-keys', 'flushall', 'restart']);

/**
 * Faults that touch no order in flight (or none at all): every database
 * transaction of theirs must end paid, declined or refused by the guard.
 */
export const QUIET = new Set<Kind>(['none', 'script-flush', 'loader-fail']);

/** The database guard's 409, which the store's sold-out 409 (ERR_RESERVE_STOCK_SOLD_OUT) is told from. */
export const GUARD_REFUSED = 'ERR_SHOP_DATABASE_REFUSED';
export const SOLD_OUT = 'ERR_RESERVE_STOCK_SOLD_OUT';
/** The 409 of an order that would take its customer past the product's per-customer limit. */
export const LIMIT_REACHED = 'ERR_RESERVE_STOCK_LIMIT';

/** One POST /orders as the buyer saw it. */
export interface Attempt {
  kind: Kind;
  sku: string;
  qty: number;
  /** The worker process (instance) that was asked. */
  worker: number;
  start: number;
  end: number;
  /** HTTP status, or 'net' (connection refused/reset), or 'timeout' (a hang). */
  outcome: number | 'net' | 'timeout';
  orderId?: number;
  idemKey?: string;
  /** The customer it named (X-Customer-Id); none: the worker made one up. */
  customer?: string;
  replayed?: boolean;
  message?: string;
  /** The error answer's code. */
  code?: string;
}

export interface Fault {
  kind: Kind;
  start: number;
  end: number;
}

/** A worker that lived through the whole phase: its `GET /stats` at the start and at the end. */
export interface WorkerTally {
  worker: number;
  before: OrderStats;
  after: OrderStats;
}

/** One sku after the phase, its holds settled. */
export interface SkuRecord {
  sku: string;
  /** The product's stock in the database, and the units and rows of its orders. */
  dbStock: number;
  unitsOrdered: number;
  /** Order rows whose id no 201 answer carried. */
  unacked: number;
  /** The figure read with a plain GET of its key; null when the key is missing. */
  plain: number | null;
  /** store.reconcile, before its fix. */
  reconciled: { redis: number | null; held: number; drift: number | null };
  /** Drift once reconcile fixed the figure (null: nothing to fix from, the figure missing). */
  driftAfterFix: number | null;
  /** The product's per-customer limit (null: none), and then the units each customer has in its order rows. */
  limit: number | null;
  perCustomer: Record<string, number>;
}

export interface PhaseRecord {
  kind: Kind;
  /** Each sku's stock at the start. */
  initial: Record<string, number>;
  attempts: Attempt[];
  faults: Fault[];
  workers: WorkerTally[];
  skus: SkuRecord[];
}

export interface CheckOptions {
  /** A request that overlaps a fault or ends this long after one may answer 503. */
  graceMs: number;
  clientTimeoutMs: number;
}

/** What the table shows of a phase. */
export interface PhaseSummary {
  requests: number;
  during: number;
  sold: number;
  s503: number;
  net: number;
  /** Database transactions of the workers that lived through the phase. */
  transactions: number;
  /** 409s of the database's guard, counted from the answers. */
  guardRefusals: number;
  /** Units of the requests in flight at some moment of a fault. */
  flight: number;
  drift: number;
  driftAfterFix: number;
  /** Skus whose figure was missing after the phase (never counted as drift 0). */
  missing: number;
  /** A limited product's: the most units one customer has in the order rows, and the most allowed (see checkLimits); null without one. */
  perCustomer: { most: number; bound: number } | null;
}

export function overlaps(a: Attempt, faults: Fault[], graceMs: number): boolean {
  return faults.some((f) => a.start <= f.end + graceMs && a.end >= f.start);
}

const fresh = (a: Attempt) => a.replayed !== true;
const isGuardRefusal = (a: Attempt) => a.outcome === 409 && a.code === GUARD_REFUSED && fresh(a);

/** Checks one phase; its failures (none when every invariant holds) and its summary. */
export function checkPhase(record: PhaseRecord, options: CheckOptions): { failures: string[]; summary: PhaseSummary } {
  const failures: string[] = [];
  const fail = (message: string) => failures.push(message);
  const { kind, attempts, faults } = record;
  const first = attempts[0]?.start ?? 0;

  // No 5xx but 503; 503 only around a fault; connection errors only when a worker was killed; no hang.
  for (const a of attempts) {
    const tag = `${kind} ${a.sku} POST /orders at +${a.start - first} ms`;
    if (a.outcome === 'timeout') fail(`${tag}: no answer within ${options.clientTimeoutMs} ms (hang)`);
    else if (a.outcome === 'net') {
      if (kind !== 'kill-worker' || !overlaps(a, faults, 1000)) fail(`${tag}: connection error ${a.message}`);
    } else if (a.outcome >= 500 && a.outcome !== 503) fail(`${tag}: ${a.outcome} ${a.message ?? ''}`);
    else if (a.outcome === 503 && !overlaps(a, faults, options.graceMs)) fail(`${tag}: 503 outside any fault (${a.message ?? ''})`);
  }

  // The database's books: never oversold, stock + sold == initial, no order nobody was told of but for an unanswered request.
  for (const s of record.skus) {
    const initial = record.initial[s.sku];
    if (initial === undefined) fail(`${s.sku}: no initial stock recorded`);
    else if (s.unitsOrdered > initial) fail(`${s.sku}: oversold, ${s.unitsOrdered} units in orders > ${initial}`);
    else if (s.dbStock + s.unitsOrdered !== initial) fail(`${s.sku}: database stock ${s.dbStock} + sold ${s.unitsOrdered} != ${initial}`);
    if (s.dbStock < 0) fail(`${s.sku}: database stock ${s.dbStock} < 0`);
    const unanswered = attempts.filter((a) => a.sku === s.sku && (a.outcome === 'net' || a.outcome === 'timeout')).length;
    if (s.unacked > unanswered) fail(`${s.sku}: ${s.unacked} orders no client was told of, but only ${unanswered} requests went unanswered`);
  }

  const perCustomer = checkLimits(record, fail);

  // Units of the requests in flight at some moment of a fault: what a lossy fault may over-state by.
  const flight = attempts.filter((a) => overlaps(a, faults, 0)).reduce((sum, a) => sum + a.qty, 0);

  // The figure, read with a plain GET beside reconcile: they must agree; a missing figure is its own case.
  let drift = 0;
  let driftAfterFix = 0;
  let missing = 0;
  for (const s of record.skus) {
    if (s.plain === null) {
      missing++;
      if (!LOSSY.has(kind)) fail(`${s.sku}: the figure is missing after a phase whose fault deletes nothing`);
      continue;
    }
    if (s.reconciled.redis !== s.plain) fail(`${s.sku}: GET reads ${s.plain}, reconcile reported ${String(s.reconciled.redis)}`);
    const own = s.plain + s.reconciled.held - s.dbStock;
    if (s.reconciled.drift !== own) fail(`${s.sku}: drift ${own} (figure + held - database), reconcile reported ${String(s.reconciled.drift)}`);
    if (own < 0) fail(`${s.sku}: Redis under-states by ${-own} (lost units)`);
    drift += own;
    if (s.driftAfterFix !== 0) fail(`${s.sku}: drift ${String(s.driftAfterFix)} after reconcile with fix`);
    driftAfterFix += s.driftAfterFix ?? 0;
  }
  if (LOSSY.has(kind)) {
    if (drift > flight) fail(`${kind}: drift ${drift} exceeds the ${flight} units in flight at the faults`);
  } else if (drift !== 0) fail(`${kind}: drift ${drift} from a fault that loses no data`);

  // The database guard refuses only what Redis over-stated: never without a fault that loses writes.
  const refusals = attempts.filter(isGuardRefusal);
  if (!LOSSY.has(kind) && refusals.length > 0) {
    fail(`${kind}: ${refusals.length} guard refusal(s) (the database refused units Redis had granted) in a phase whose fault loses no writes`);
  } else if (refusals.length > flight) {
    fail(`${kind}: ${refusals.length} guard refusals exceed the ${flight} units in flight at the faults`);
  }

  // Every database transaction accounted for, worker by worker, against the answers it gave.
  let transactions = 0;
  const during = attempts.filter((a) => overlaps(a, faults, options.graceMs)).length;
  for (const { worker, before, after } of record.workers) {
    const d = Object.fromEntries(Object.keys(after).map((k) => [k, after[k as keyof OrderStats] - before[k as keyof OrderStats]])) as unknown as OrderStats;
    const mine = attempts.filter((a) => a.worker === worker);
    const answered = {
      sold: mine.filter((a) => a.outcome === 201 && fresh(a)).length,
      declined: mine.filter((a) => a.outcome === 402 && fresh(a)).length,
      refused: mine.filter(isGuardRefusal).length,
    };
    const tag = `${kind} worker ${worker}`;
    transactions += d.dbTransactions;
    if (d.dbTransactions !== d.paid + d.repeated + d.declined + d.guardRefusals + d.failed) {
      fail(`${tag}: ${d.dbTransactions} database transactions, but ${d.paid} paid + ${d.repeated} repeated + ${d.declined} declined + ${d.guardRefusals} refused + ${d.failed} failed ended`);
    }
    if (d.paid + d.repeated !== answered.sold) fail(`${tag}: ${d.paid + d.repeated} orders placed or repeated, ${answered.sold} answers 201`);
    if (d.declined !== answered.declined) fail(`${tag}: ${d.declined} payments declined, ${answered.declined} answers 402`);
    if (d.guardRefusals !== answered.refused) fail(`${tag}: ${d.guardRefusals} guard refusals counted, ${answered.refused} answers ${GUARD_REFUSED}`);
    const other = d.repeated + d.failed;
    if (QUIET.has(kind) && other > 0) {
      fail(`${tag}: database transactions ${d.dbTransactions} != paid ${d.paid} + declined ${d.declined} + guard refusals ${d.guardRefusals} (${other} ended otherwise)`);
    } else if (other > during) fail(`${tag}: ${other} transactions ended otherwise, more than the ${during} requests around the faults`);
  }

  // No double purchase per idempotency key, whatever the fault: a replay answers the same order, and
  // when a flush or restart took Redis's record of the key, the orders table's unique key does.
  const byKey = new Map<string, Attempt[]>();
  for (const a of attempts) if (a.idemKey) byKey.set(a.idemKey, [...(byKey.get(a.idemKey) ?? []), a]);
  for (const [key, tries] of byKey) {
    const ids = new Set(tries.filter((a) => a.outcome === 201).map((a) => a.orderId));
    if (ids.size > 1) fail(`${key}: ${ids.size} orders (${[...ids].join(', ')}) for one Idempotency-Key`);
  }

  return {
    failures,
    summary: {
      requests: attempts.length,
      during,
      sold: attempts.filter((a) => a.outcome === 201 && fresh(a)).length,
      s503: attempts.filter((a) => a.outcome === 503).length,
      net: attempts.filter((a) => a.outcome === 'net').length,
      transactions,
      guardRefusals: refusals.length,
      flight,
      drift,
      driftAfterFix,
      missing,
      perCustomer,
    },
  };
}

/**
 * Per-customer limits, from the order rows: no customer has more units of
 * a limited product than its limit, where no fault lost Redis data.
 *
 * A lossy fault (LOSSY) loses the customers' counts with the item's keys
 * (flushall and a restart: everything; del-keys: the phase's items), and
 * the item's own limit with them until the figure is loaded again, which a
 * grant needs first (the load writes the limit with the figure). So the
 * faults cut the phase into eras, 1 + one per fault, and a customer can buy
 * up to the limit again in each, but no more: an order only reaches the
 * database once its hold is prepared, and a prepare needs the hold's record,
 * which the same loss took, so every unit in the order rows was granted
 * and prepared within one era; its grant saw every such unit of the era
 * before it counted (none of them is released: a prepared hold's units go
 * to the database or back through a release that leaves no order row). The
 * bound is then limit x (1 + faults). Other faults lose no count: a
 * killed worker's holds expire or fall in doubt and are resolved against
 * the order rows, a reservation resent after a dropped connection is
 * counted once, so the limit itself holds. The database guard never
 * oversells either way (the books above).
 */
function checkLimits(record: PhaseRecord, fail: (message: string) => void): PhaseSummary['perCustomer'] {
  const eras = 1 + (LOSSY.has(record.kind) ? record.faults.length : 0);
  const limited = record.skus.filter((s): s is SkuRecord & { limit: number } => s.limit !== null);
  for (const s of limited) {
    for (const [customer, units] of Object.entries(s.perCustomer)) {
      if (units > s.limit * eras) {
        const why = eras > 1 ? `the limit ${s.limit} in each of ${eras} eras of counts (${eras - 1} lossy faults)` : `the limit ${s.limit}`;
        fail(`${s.sku}: customer ${customer} has ${units} units in order rows, past ${why}`);
      }
    }
  }
  if (limited.length === 0) return null;
  return {
    most: Math.max(0, ...limited.flatMap((s) => Object.values(s.perCustomer))),
    bound: Math.max(...limited.map((s) => s.limit * eras)),
  };
}
