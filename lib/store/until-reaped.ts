import { unavailable } from '../errors';
import type { StoreContext } from './context';
import { reportExpired } from './context';

/**
 * Sends a script call again while it answers that due holds are left to
 * reap before it can answer: a refusal or a read of the figure must see
 * every due hold's units back, and each call reaps one bounded batch (see
 * lua/includes/library.lua), so that no call stalls a Redis the shop shares.
 * The whole loop is bounded by `timeoutMs`, then a 503. Reports the holds
 * each intermediate call expired; the last reply's are the caller's.
 */
export async function untilReaped<T>(
  ctx: StoreContext,
  key: string,
  send: () => Promise<T>,
  reaping: (reply: T) => { again: boolean; expired: number },
): Promise<T> {
  const deadline = Date.now() + ctx.config.timeoutMs;
  for (;;) {
    const reply = await send();
    const { again, expired } = reaping(reply);
    if (!again) return reply;
    reportExpired(ctx, key, expired);
    if (Date.now() >= deadline) {
      throw unavailable(`Redis is still giving back the expired holds of ${JSON.stringify(key)}: try again`);
    }
  }
}
