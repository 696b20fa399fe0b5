import { setTimeout as sleep } from 'node:timers/promises';
import { badInput } from '../errors';
import type { ResetBlocker } from '../scripts/commands';
import type { DatabaseStock, ReconcileOptions, ReconcileReport } from '../types';
import { backoffDelay } from '../util/backoff';
import { assertKey, assertStockFigure, UNLIMITED_STOCK } from '../validation/input';
import { reportExpired, type StoreContext } from './context';
import { checkCustomerCounts } from './customer-counts';
import { readItem, type ItemTotals } from './read-item';
import { untilReaped } from './until-reaped';

/**
 * {@link StockStore.reconcile}. A fix is made under the initialisation lock
 * (so it never meets a load), by resetFigure-6, which refuses while a hold is
 * prepared or in doubt: its order may be in the database's figure already,
 * and database - held would count its units twice.
 *
 * With `databaseStock` a function, Redis is read first, then the database,
 * and the fix is refused when a hold was prepared in between (every order's
 * database commit follows its prepare): an order that committed after the
 * database was read, and settled in Redis since, would be counted on
 * neither side. Refused so, it reads both again and retries, with jittered
 * backoff, until `initTimeoutMs`. With a number, the caller read the
 * database at a time this cannot know: the fix can over-state by the orders
 * that committed after that read.
 */
export async function reconcile(
  ctx: StoreContext,
  key: string,
  databaseStock: DatabaseStock,
  options: ReconcileOptions | undefined,
): Promise<ReconcileReport> {
  assertKey(key);
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw badInput('reconcile options must be an object, such as { fix: true }');
  }
  const read = typeof databaseStock === 'function' ? databaseStock : () => databaseStock;
  const deadline = Date.now() + ctx.config.initTimeoutMs;
  const live = typeof databaseStock === 'function';
  for (let attempt = 0; ; attempt++) {
    const before = live ? await readItem(ctx, key) : undefined;
    const database = await read();
    assertStockFigure(database);
    const totals = before ?? (await readItem(ctx, key));
    const drift = driftOf(totals.figure, totals.units, database);
    let blocker: ResetBlocker | null = null;
    if (options?.fix === true && drift !== 0 && totals.figure !== null) {
      blocker = totals.prepared > 0 ? 'prepared' : await resetFigure(ctx, key, database, before ? before.prepares : '');
    }
    const retry = blocker === 'prepared' && live && Date.now() < deadline;
    if (!retry) {
      const fixed = options?.fix === true && drift !== 0 && totals.figure !== null && blocker === null;
      ctx.config.emit?.({ type: 'reconciled', key, drift, fixed });
      const result = report(key, database, totals, drift, fixed, blocker === 'prepared' || blocker === 'in-doubt' ? blocker : null);
      if (options?.customers === true) result.customers = await checkCustomerCounts(ctx, key);
      return result;
    }
    await sleep(Math.min(deadline - Date.now(), backoffDelay(attempt, 10, 100)));
  }
}

/** Resets the figure to database - held under the lock; why it did not, or null when it did. */
async function resetFigure(ctx: StoreContext, key: string, database: number, preparesSeen: number | ''): Promise<ResetBlocker | null> {
  const keys = ctx.keys.of(key);
  const token = await ctx.lock.acquireWithin(keys.lock, ctx.config.initTimeoutMs);
  try {
    const [, , expired, blocker] = await untilReaped(
      ctx,
      key,
      () => ctx.caller.run(() => ctx.commands.resetFigure(...keys.holds, database, ctx.config.retentionMs, preparesSeen)),
      (reply) => ({ again: reply[3] === 'reaping', expired: reply[2] }),
    );
    reportExpired(ctx, key, expired);
    if (blocker === null) ctx.soldOut.forget(key);
    return blocker;
  } finally {
    ctx.lock.releaseQuietly(keys.lock, token, (error) => ctx.config.emit?.({ type: 'error', operation: 'lock', key, error }));
  }
}

function driftOf(redis: number | null, held: number, database: number): number | null {
  if (redis === null) return null;
  if (redis === UNLIMITED_STOCK || database === UNLIMITED_STOCK) return redis === database ? 0 : null;
  return redis + held - database;
}

function report(
  key: string,
  database: number,
  { figure, units, count, inDoubt, prepared }: ItemTotals,
  drift: number | null,
  fixed: boolean,
  blockedBy: 'prepared' | 'in-doubt' | null,
): ReconcileReport {
  return { key, database, redis: figure, held: units, openHolds: count, prepared, inDoubt, drift, fixed, blockedBy };
}
