import type { CustomerCountsReport } from '../types';
import type { StoreContext } from './context';
import { listHolds } from './read-item';

/** Customers' counts read per HMGET: a bounded call, whatever the crowd. */
const COUNTS_PAGE = 1000;

/**
 * Checks an item's per-customer counts (lua/includes/limits.lua) against its
 * open holds: a customer's count covers their open holds and committed
 * ones, so a count below the units their open holds were counted for means
 * the limit was bypassed (a count lost or written over). Reads every open
 * hold, a bounded page per call.
 */
export async function checkCustomerCounts(ctx: StoreContext, key: string): Promise<CustomerCountsReport> {
  const open = new Map<string, number>();
  for (const { customer, counted } of await listHolds(ctx, key, 'all', Number.POSITIVE_INFINITY)) {
    if (customer !== '') open.set(customer, (open.get(customer) ?? 0) + counted);
  }
  const customers = [...open.keys()];
  const holdsKey = ctx.keys.of(key).holds[1];
  const counts: (string | null)[] = [];
  for (let from = 0; from < customers.length; from += COUNTS_PAGE) {
    const page = customers.slice(from, from + COUNTS_PAGE);
    counts.push(...(await ctx.caller.run(() => ctx.config.redis.hmget(holdsKey, ...page))));
  }
  const mismatched = customers
    .map((customer, i) => ({ customer, counted: Number(counts[i] ?? 0), open: open.get(customer) as number }))
    .filter(({ counted, open: units }) => counted < units);
  return { checked: customers.length, mismatched };
}
