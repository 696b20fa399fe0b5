import type { CartLine, CartOptions, CartResult, OverLimitLine, ReservedLine, ShortLine, StockLoader, StockStore } from '../types';
import { lineLimit } from './cart-in-one-call';
import { settleInBackground } from './settle-in-background';

/** Gives back the lines of a cart that cannot be completed; never rejects (expiry is the backstop). */
function giveBack(store: StockStore, lines: readonly ReservedLine[]): Promise<unknown> {
  return Promise.all(lines.map((line) => settleInBackground(store, line.holdId, 'release')));
}

/** What reserveLineByLine needs besides the store. */
export interface LineByLineOptions extends Pick<CartOptions, 'customer' | 'limit'> {
  loader: StockLoader | undefined;
  holdSeconds: number | undefined;
  /**
   * The units of `key` free now, holding none (the figure loaded first if
   * missing; -1 unlimited): for the lines after a short one.
   */
  available(key: string): Promise<number>;
  /** Reports a short line found by `available`. */
  soldOut(line: ShortLine): void;
}

/**
 * A cart whose keys live in different Cluster slots, where no script can
 * take them all: line by line in key order (the order of every cart). At
 * the first short line the lines already held go back at once, and the
 * rest are only looked at, so that the 409 lists every short line without
 * the cart holding units another cart could complete with. A line that
 * would take its customer past their limit stops the cart there (it alone
 * is listed), the lines before it given back too. Nothing waits on another
 * cart, so carts never deadlock.
 */
export async function reserveLineByLine(store: StockStore, cart: readonly CartLine[], options: LineByLineOptions): Promise<CartResult> {
  const reserved: ReservedLine[] = [];
  const short: ShortLine[] = [];
  let over: OverLimitLine | undefined;
  try {
    for (const { key, qty } of cart) {
      if (short.length > 0) {
        const available = await options.available(key);
        if (available !== -1 && available < qty) {
          const line = { key, requested: qty, available };
          options.soldOut(line);
          short.push(line);
        }
        continue;
      }
      const result = await store.reserve(key, qty, options.loader, {
        holdSeconds: options.holdSeconds,
        customer: options.customer,
        limit: lineLimit(options, key),
      });
      if (result.status === 'insufficient') {
        short.push({ key, requested: qty, available: result.available });
        await giveBack(store, reserved.splice(0));
      } else if (result.status === 'limit') {
        over = { key, requested: qty, limit: result.limit, bought: result.bought };
        await giveBack(store, reserved.splice(0));
        break;
      } else {
        const remaining = result.status === 'reserved' ? result.remaining : -1;
        reserved.push({ key, qty, remaining, holdId: result.holdId, expiresAt: result.expiresAt });
      }
    }
  } catch (error) {
    await giveBack(store, reserved);
    throw error;
  }
  if (over) return { status: 'limit', over: [over] };
  return short.length === 0 ? { status: 'reserved', lines: reserved } : { status: 'insufficient', short };
}
