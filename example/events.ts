import type { StockEvent, StockEventHandler } from '../lib';

/** One handler that hands each event to every given one, in order. */
export function allOf(...handlers: (StockEventHandler | undefined)[]): StockEventHandler {
  const present = handlers.filter((handler): handler is StockEventHandler => handler !== undefined);
  return (event: StockEvent) => {
    for (const handler of present) handler(event);
  };
}
