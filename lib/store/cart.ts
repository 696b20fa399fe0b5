import type { CartLine, CartResult, ReservedLine, ShortLine, StockLoader, StockStore } from '../types';
import { settleInBackground } from './settle-in-background';

/** Gives back the lines of a cart that cannot be completed; never rejects (expiry is the backstop). */
function giveBack(store: StockStore, lines: readonly ReservedLine[]): Promise<unknown> {
  return Promise.all(lines.map((line) => settleInBackground(store, line.holdId, 'release')));
}

/**
 * A cart whose keys live in different Cluster slots, where no script can
 * take them all: line by line in key order (the order of every cart), and
 * when a line is short or a call fails, the lines already held go back
 * before the answer. No line waits on another cart, so carts never
 * deadlock, and a cart that cannot complete lets go at once instead of
 * keeping units from the others.
 */
export async function reserveLineByLine(
  store: StockStore,
  cart: readonly CartLine[],
  loader: StockLoader | undefined,
  holdSeconds: number | undefined,
): Promise<CartResult> {
  const reserved: ReservedLine[] = [];
  const short: ShortLine[] = [];
  try {
    for (const { key, qty } of cart) {
      const result = await store.reserve(key, qty, loader, { holdSeconds });
      if (result.status === 'insufficient') short.push({ key, requested: qty, available: result.available });
      else {
        const remaining = result.status === 'reserved' ? result.remaining : -1;
        reserved.push({ key, qty, remaining, holdId: result.holdId, expiresAt: result.expiresAt });
      }
    }
  } catch (error) {
    await giveBack(store, reserved);
    throw error;
  }
  if (short.length === 0) return { status: 'reserved', lines: reserved };
  await giveBack(store, reserved);
  return { status: 'insufficient', short };
}
