import { unavailable } from '../errors';
import type { CartReply } from '../scripts/commands';
import type { CartLine, CartOptions, CartResult, StockLoader } from '../types';
import { reportExpired, type StoreContext } from './context';
import { makeHoldId, nonceOf } from './hold-id';
import { loadFigure } from './initialise';
import type { StockKeys } from './keys';
import { limitOf } from './reserve-item';
import { untilReaped } from './until-reaped';

/**
 * A cart whose keys fit one script call (a single Redis, or one Cluster
 * slot): reserveCart-N checks every line, then deducts every line or none.
 * Lines whose figure is missing are loaded (lock-guarded, SET NX, nothing
 * reserved) and the script runs again, until `initTimeoutMs`; while a
 * short line has due holds left to reap, the script is sent again (see
 * ./until-reaped).
 */
export async function reserveInOneCall(
  ctx: StoreContext,
  cart: CartLine[],
  keys: StockKeys[],
  loader: StockLoader | undefined,
  holdMs: number,
  options: CartOptions | undefined,
): Promise<CartResult> {
  const { caller, commands, config } = ctx;
  const holdIds = cart.map(({ key }) => makeHoldId(key));
  const flatKeys = keys.flatMap((k) => k.holds);
  const { customer } = limitOf({ customer: options?.customer });
  const limits = cart.map(({ key }) => limitOf({ limit: lineLimit(options, key) }).limit);
  const args = [
    holdMs,
    config.retentionMs,
    customer,
    ...cart.flatMap(({ qty }, i) => [qty, nonceOf(holdIds[i] as string), limits[i] as number | '']),
  ];
  const first = (cart[0] as CartLine).key;
  const reportEach = (expired: number[]) => expired.forEach((n, i) => reportExpired(ctx, (cart[i] as CartLine).key, n));
  const deadline = Date.now() + config.initTimeoutMs;
  for (;;) {
    const mark = ctx.soldOut.mark();
    const reply = await untilReaped(
      ctx,
      first,
      () =>
        caller.run(
          () => commands.reserveCart(flatKeys.length, ...flatKeys, ...args),
          // Told 503, the caller will not hold the lines: give them back.
          (late) => {
            if (late[0] === 'reserved') for (const id of holdIds) ctx.releaseLate(id);
          },
        ),
      (sent) => {
        const again = sent[0] === 'again';
        if (again) reportEach(sent[2]);
        return { again, expired: 0 };
      },
    );
    reportEach(reply[2]);
    if (reply[0] !== 'missing') return toCartResult(ctx, cart, keys, holdIds, reply, mark);
    if (Date.now() >= deadline) throw unavailable('Timed out waiting for the stock of the cart to be initialised');
    for (const line of reply[1]) await loadFigure(ctx, keys[line - 1] as StockKeys, (cart[line - 1] as CartLine).key, loader);
  }
}

/** A cart line's own limit (undefined: its item's), from the cart's options. */
export function lineLimit(options: CartOptions | undefined, key: string): number | undefined {
  const limit = options?.limit;
  return typeof limit === 'function' ? limit(key) : limit;
}

async function toCartResult(
  ctx: StoreContext,
  cart: CartLine[],
  keys: StockKeys[],
  holdIds: string[],
  [status, list]: CartReply,
  mark: number,
): Promise<CartResult> {
  const emit = ctx.config.emit;
  if (status === 'limit') {
    const over = [];
    for (let i = 0; i < list.length; i += 3) {
      const { key, qty } = cart[(list[i] as number) - 1] as CartLine;
      const [bought, limit] = [list[i + 1] as number, list[i + 2] as number];
      emit?.({ type: 'limit', key, requested: qty, limit, bought });
      over.push({ key, requested: qty, limit, bought });
    }
    return { status: 'limit', over };
  }
  if (status === 'short') {
    const short = [];
    for (let i = 0; i < list.length; i += 2) {
      const { key, qty } = cart[(list[i] as number) - 1] as CartLine;
      const available = list[i + 1] as number;
      ctx.soldOut.learn(key, available, mark);
      emit?.({ type: 'sold-out', key, requested: qty, available, cached: false });
      short.push({ key, requested: qty, available });
    }
    return { status: 'insufficient', short };
  }
  let fresh = false;
  const lines = cart.map(({ key, qty }, i) => {
    const [code, , expiresAt, replayed] = list.slice(i * 4, i * 4 + 4) as [number, number, number, number];
    const holdId = holdIds[i] as string;
    if (replayed !== 1) {
      ctx.soldOut.granted(key, code);
      fresh = true;
      emit?.({ type: 'reserved', key, qty, remaining: code, holdId });
    }
    return { key, qty, remaining: code, holdId, expiresAt };
  });
  // One call, one node: one WAIT covers every line.
  if (fresh && ctx.replicas) await ctx.replicas.after((cart[0] as CartLine).key, (keys[0] as StockKeys).stock);
  return { status: 'reserved', lines };
}
