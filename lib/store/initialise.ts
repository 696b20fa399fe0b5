import { setTimeout as sleep } from 'node:timers/promises';
import { isHttpError, unavailable } from '../errors';
import type { StockLoader } from '../types';
import { backoffDelay } from '../util/backoff';
import { withDeadline } from '../util/deadline';
import { toError } from '../util/events';
import { isStockFigure, MAX_UNITS } from '../validation/input';
import type { StoreContext } from './context';
import type { StockKeys } from './keys';

/** The call that found no figure, tried again: its answer, or undefined while the figure is still missing. */
type TryAgain<T> = () => Promise<T | undefined>;
/** A loader's answer, checked: the figure, and the item's own per-customer limit (0: none). */
export interface Loaded {
  stock: number;
  limit: number;
}

/** Writes the loaded figure (SET NX, a new epoch), and whatever goes with it in the same script. */
type WriteFigure<T> = (loaded: Loaded) => Promise<{ value: T; written: boolean }>;

/**
 * Runs a call that needs a figure that is missing: one caller across every
 * process takes the lock, loads the figure and writes it (with the call, in
 * one script, where it can); the others wait with backoff, then try again.
 * Nobody is turned away because someone else holds the lock; everyone gives
 * up with a 503 after `initTimeoutMs`.
 */
export async function whenFigureMissing<T>(
  ctx: StoreContext,
  keys: StockKeys,
  key: string,
  loader: StockLoader | undefined,
  tryAgain: TryAgain<T>,
  write: WriteFigure<T>,
): Promise<T> {
  if (!loader) throw unavailable(`Stock for ${JSON.stringify(key)} is not initialised and no loader was given`);
  const deadline = Date.now() + ctx.config.initTimeoutMs;
  for (let attempt = 0; ; attempt++) {
    const token = await ctx.lock.tryAcquire(keys.lock);
    if (token !== null) {
      try {
        // Another holder may have written the figure between our miss and our lock.
        const again = await tryAgain();
        if (again !== undefined) return again;
        const ms = Math.max(1, Math.min(ctx.config.loaderTimeoutMs, deadline - Date.now()));
        const loaded = await load(ctx, key, loader, ms);
        const { value, written } = await write(loaded);
        if (written) ctx.config.emit?.({ type: 'initialised', key, stock: loaded.stock });
        return value;
      } finally {
        ctx.lock.releaseQuietly(keys.lock, token, (error) =>
          ctx.config.emit?.({ type: 'error', operation: 'lock', key, error }),
        );
      }
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      throw unavailable(`Timed out waiting for the stock of ${JSON.stringify(key)} to be initialised`);
    }
    await sleep(Math.min(left, backoffDelay(attempt)));
    const reply = await tryAgain();
    if (reply !== undefined) return reply;
  }
}

async function load(ctx: StoreContext, key: string, loader: StockLoader, ms: number): Promise<Loaded> {
  let timeout: Error | undefined;
  let answer: unknown;
  try {
    answer = await withDeadline(
      Promise.resolve().then(() => loader(key)),
      ms,
      () => (timeout = unavailable(`The stock loader did not answer within ${ms} ms`)),
    );
  } catch (error) {
    // The loader's own http-error (say a 404 for an unknown product) is the answer.
    if (error !== timeout && isHttpError(error)) throw error;
    ctx.config.emit?.({ type: 'error', operation: 'load', key, error: toError(error) });
    throw error === timeout ? error : unavailable('The stock loader failed', error);
  }
  const loaded = loadedOf(answer);
  if (!loaded) {
    const error = unavailable(
      `The stock loader returned ${String(answer)}, not a whole number from -1 to ${MAX_UNITS} nor { stock, limit } of such`,
    );
    ctx.config.emit?.({ type: 'error', operation: 'load', key, error });
    throw error;
  }
  return loaded;
}

/** A loader's answer as a figure and a limit, or undefined when it is neither a figure nor `{ stock, limit? }`. */
function loadedOf(answer: unknown): Loaded | undefined {
  if (isStockFigure(answer)) return { stock: answer, limit: 0 };
  if (typeof answer !== 'object' || answer === null) return undefined;
  const { stock, limit = 0 } = answer as { stock?: unknown; limit?: unknown };
  return isStockFigure(stock) && isStockFigure(limit) && limit >= 0 ? { stock, limit } : undefined;
}

/**
 * Loads a missing figure (SET NX, under the lock) and reserves nothing: a
 * cart's line, whose units the cart script then takes with the others.
 */
export function loadFigure(ctx: StoreContext, keys: StockKeys, key: string, loader: StockLoader | undefined): Promise<true> {
  const { caller, commands, config } = ctx;
  return whenFigureMissing(
    ctx,
    keys,
    key,
    loader,
    async () => ((await caller.run(() => config.redis.exists(keys.stock))) === 1 ? true : undefined),
    async ({ stock, limit }) => {
      const written = await caller.run(() => commands.setStock(...keys.holds, stock, config.ttlSeconds, 'NX', config.retentionMs, limit));
      return { value: true, written: written === 1 };
    },
  );
}
