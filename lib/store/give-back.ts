import type { StockStore } from '../types';
import { NOT_SENT } from './redis-caller';

// Backoff for a give-back that Redis refused while disconnected: about 20 s
// in all, then the units are left to the figure's TTL (the next load from
// the database restores them).
const RETRY_DELAYS_MS = [250, 1000, 4000, 15_000];

/**
 * Returns reserved units without ever rejecting. Retries only a call that
 * provably never reached Redis: a call that may have run is not repeated,
 * so units are never given back twice. Every failure is reported by
 * `store.release` through the events hook.
 */
export function giveBack(store: StockStore, key: string, qty: number, attempt = 0): Promise<void> {
  return store.release(key, qty).then(
    () => undefined,
    (error: unknown) => {
      const delay = RETRY_DELAYS_MS[attempt];
      if ((error as { code?: unknown }).code !== NOT_SENT || delay === undefined) return;
      setTimeout(() => void giveBack(store, key, qty, attempt + 1), delay).unref();
    },
  );
}
