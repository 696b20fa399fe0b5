import { badInput } from '../errors';
import type { CartLine } from '../types';
import { assertKey, assertQuantity } from './input';

/** Most distinct items in one cart: a checkout, not a warehouse transfer. */
export const MAX_CART_LINES = 100;

/**
 * Carts this module merged: frozen, so still merged. The middleware merges a
 * cart before it claims the request's idempotency key and hands the result to
 * the store, whose reserveCart merges what any caller gives it: this lets a
 * cart be checked and merged once per request.
 */
const MERGED = new WeakSet<CartLine[]>();

/**
 * A cart's lines checked (400 for an empty cart, a line that is not
 * `{ key, qty }` with a valid key and quantity, or too many items), lines of
 * the same key merged, in key order: the fixed order every cart reserves in.
 * A cart this function returned comes back as it is.
 */
export function mergeCart(lines: unknown): CartLine[] {
  if (MERGED.has(lines as CartLine[])) return lines as CartLine[];
  if (!Array.isArray(lines) || lines.length === 0) {
    throw badInput('The cart must be a non-empty array of { key, qty } lines');
  }
  const merged = new Map<string, number>();
  for (const line of lines as unknown[]) {
    if (typeof line !== 'object' || line === null) throw badInput('Every cart line must be an object { key, qty }');
    const { key, qty } = line as { key?: unknown; qty?: unknown };
    assertKey(key);
    assertQuantity(qty);
    const total = (merged.get(key) ?? 0) + qty;
    assertQuantity(total);
    merged.set(key, total);
  }
  if (merged.size > MAX_CART_LINES) throw badInput(`A cart holds at most ${MAX_CART_LINES} different items`);
  const sorted = [...merged].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  // Frozen at run time (a change would throw), typed as the mutable array the store's helpers take.
  const cart = Object.freeze(sorted.map(([key, qty]) => Object.freeze({ key, qty }))) as CartLine[];
  MERGED.add(cart);
  return cart;
}
