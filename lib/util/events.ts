import type { StockEvent, StockEventHandler } from '../types';

/**
 * Wraps the shop's handler so that an exception in it never breaks a
 * reservation or reaches the process as an uncaught error.
 */
export function safeEmitter(handler: StockEventHandler | undefined): StockEventHandler | undefined {
  if (!handler) return undefined;
  return (event: StockEvent) => {
    try {
      handler(event);
    } catch {
      // The shop's logging failed; the sale must not.
    }
  };
}

/** Normalises anything thrown into an Error for `error` events. */
export function toError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(String(thrown));
}
