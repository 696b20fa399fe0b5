import type { CartLine, CartOptions, ShortLine } from '../types';
import { lineLimit } from './cart-in-one-call';
import type { StoreContext } from './context';
import { limitOf } from './reserve-item';

/**
 * The lines of `cart` that remembered sold-out answers already refuse (see
 * ./sold-out-cache), each reported as a cached `sold-out`: one such line
 * refuses the whole cart without a Redis call. Empty when every line must
 * ask Redis. The lines not remembered are not listed: the 409 names the
 * short lines it knows of.
 */
export function shortFromMemory(ctx: StoreContext, cart: readonly CartLine[], options: CartOptions | undefined): ShortLine[] {
  const short: ShortLine[] = [];
  for (const { key, qty } of cart) {
    const available = ctx.soldOut.refusal(key, qty);
    if (available !== undefined) short.push({ key, requested: qty, available });
  }
  if (short.length === 0) return short;
  // A bad customer or limit is a 400 whatever the stock, as when Redis answers.
  limitOf({ customer: options?.customer });
  for (const { key } of cart) limitOf({ limit: lineLimit(options, key) });
  for (const line of short) ctx.config.emit?.({ type: 'sold-out', ...line, cached: true });
  return short;
}
