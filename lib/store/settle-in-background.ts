import type { SettleResult, StockStore } from '../types';

// Backoff for a commit or release that failed (Redis down at that moment):
// about 20 s in all. Both are idempotent by hold id, so a retry never
// settles twice; should every try fail, the hold's expiry gives the units
// back (for a commit that never landed, Redis then over-states and the
// database's own check turns the excess away).
const RETRY_DELAYS_MS = [250, 1000, 4000, 15_000];

const UNSETTLED: SettleResult = { state: 'held', changed: false };

/**
 * Commits or releases a hold without ever rejecting. Every failure is
 * reported by the store through the events hook; the answer is the first
 * try's, or `held` (unchanged for now) while retries go on in the background.
 */
export function settleInBackground(
  store: StockStore,
  holdId: string,
  action: 'commit' | 'release',
  attempt = 0,
): Promise<SettleResult> {
  return store[action](holdId).catch(() => {
    const delay = RETRY_DELAYS_MS[attempt];
    if (delay !== undefined) {
      setTimeout(() => void settleInBackground(store, holdId, action, attempt + 1), delay).unref();
    }
    return UNSETTLED;
  });
}
