/**
 * Exponential backoff with full jitter: spreads many waiters' retries so
 * they do not poll Redis in lockstep.
 */
export function backoffDelay(attempt: number, baseMs = 10, capMs = 200): number {
  return Math.random() * Math.min(capMs, baseMs * 2 ** attempt);
}
