import type { InspectReply } from '../scripts/commands';
import { holdStateOf } from '../scripts/replies';
import type { HoldsReport } from '../types';
import { reportExpired, type StoreContext } from './context';
import { holdIdOf } from './hold-id';
import { untilReaped } from './until-reaped';

/** An item as inspectHolds-6 reads it, every due hold reaped. */
export interface ItemTotals {
  /** The figure; null when absent. */
  figure: number | null;
  /** Units in open holds. */
  units: number;
  /** Open holds. */
  count: number;
  inDoubt: number;
  prepared: number;
  /** Prepares so far (never goes down; see lua/includes/counters.lua). */
  prepares: number;
}

/** Holds a page lists at most: one call's bounded work. */
export const PAGE_SIZE = 500;

function inspect(ctx: StoreContext, key: string, list: 'none' | 'all' | 'in-doubt', from: string): Promise<InspectReply> {
  const { holds } = ctx.keys.of(key);
  return untilReaped(
    ctx,
    key,
    () => ctx.caller.run(() => ctx.commands.inspectHolds(...holds, ctx.config.retentionMs, list, from, PAGE_SIZE)),
    (reply) => ({ again: reply[7] === 1 && list === 'none', expired: reply[4] }),
  );
}

/** The figure and the open holds' totals, once every due hold's units are back. */
export async function readItem(ctx: StoreContext, key: string): Promise<ItemTotals> {
  const [figure, units, count, , expired, inDoubt, prepared, , , prepares] = await inspect(ctx, key, 'none', '0');
  reportExpired(ctx, key, expired);
  return { figure: figure === null ? null : Number(figure), units, count, inDoubt, prepared, prepares };
}

/** An open hold as listed, with the customer it counts toward (their digest; '' for none) and the units counted. */
export type ListedHold = HoldsReport['holds'][number] & { customer: string; counted: number };

/**
 * Up to `limit` of the item's open holds (`all`) or in-doubt holds, a
 * bounded page per call; listed soonest expiry first.
 */
export async function listHolds(ctx: StoreContext, key: string, which: 'all' | 'in-doubt', limit: number): Promise<ListedHold[]> {
  const listed: ListedHold[] = [];
  let from = '0';
  do {
    const [, , , flat, expired, , , , next] = await inspect(ctx, key, which, from);
    reportExpired(ctx, key, expired);
    for (let i = 0; i < flat.length && listed.length < limit; i += 6) {
      listed.push({
        holdId: holdIdOf(key, String(flat[i])),
        qty: Number(flat[i + 1]),
        expiresAt: Number(flat[i + 2]),
        state: holdStateOf(String(flat[i + 3])),
        customer: String(flat[i + 4]),
        counted: Number(flat[i + 5]),
      });
    }
    from = next;
  } while (from !== '0' && listed.length < limit);
  return listed.sort((a, b) => a.expiresAt - b.expiresAt);
}
