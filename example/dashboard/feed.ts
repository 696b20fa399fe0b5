import type { RequestHandler } from 'express';
import type { StockEvent, StockEventHandler } from '../../lib';
import { ORDER_PATHS } from '../checkout';
import type { SaleTimeline } from './timeline';

/**
 * Counts the buyers' answers as they leave: a 201 or 409 of an order route
 * (`POST /orders`, `POST /carts/checkout`) is a sale or a sold-out answer, a
 * 503 of any route an outage.
 */
export function countAnswers(timeline: SaleTimeline): RequestHandler {
  return (req, res, next) => {
    // Read now: the routers rewrite req.url on the way.
    const order = req.method === 'POST' && ORDER_PATHS.includes(req.path);
    res.on('finish', () => {
      if (order && res.statusCode === 201) timeline.count('sales');
      else if (order && res.statusCode === 409) timeline.count('soldOut');
      else if (res.statusCode === 503) timeline.count('unavailable');
    });
    next();
  };
}

/** The product and figure an event tells of, if any. */
function stockOf(event: StockEvent): [sku: string, units: number] | undefined {
  if (event.type === 'reserved') return [event.key, event.remaining];
  if (event.type === 'sold-out') return [event.key, event.available];
  if (event.type === 'initialised') return [event.key, event.stock];
  return undefined;
}

/** Records the stock the library reports as it reserves, refuses and loads. */
export function recordStock(timeline: SaleTimeline): StockEventHandler {
  return (event) => {
    const figure = stockOf(event);
    if (figure) timeline.stock(...figure);
  };
}
