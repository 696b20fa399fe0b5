import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { badInput, isHttpError, soldOut } from '../errors';
import type { Reservation } from '../types';
import { resolveMiddlewareOptions, type MiddlewareConfig, type ReserveStockOptions } from './options';
import { HeldReservation } from './reservation';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by `reserveStock` once the units are reserved. */
      reservation?: Reservation;
    }
  }
}

/**
 * Settles the reservation when the handler ends the response, whether or
 * not the client is still connected: the handler's answer is the order's
 * outcome, the connection is not.
 */
function settleOnEnd(req: Request, res: Response, reservation: HeldReservation, config: MiddlewareConfig): void {
  const end = res.end;
  res.end = function endAndSettle(this: Response, ...args: Parameters<Response['end']>) {
    res.end = end;
    if (config.releaseWhen(res.statusCode, req, res)) void reservation.release();
    else void reservation.commit();
    return end.apply(this, args);
  } as Response['end'];
}

async function reserveFor(req: Request, res: Response, config: MiddlewareConfig): Promise<unknown> {
  let key: unknown;
  let qty: unknown;
  try {
    key = await config.readKey(req);
    qty = await config.readQty(req);
  } catch (error) {
    return isHttpError(error) ? error : badInput('Could not read the stock key and quantity from the request', error);
  }
  const { loader, store } = config;
  const result = await store.reserve(key as string, qty as number, loader && ((k) => loader(k, req)));
  if (result.status === 'insufficient') return soldOut(key as string, qty as number, result.available);
  const reservation =
    result.status === 'reserved'
      ? new HeldReservation(key as string, qty as number, result.remaining, store)
      : new HeldReservation(key as string, qty as number, -1, null);
  req.reservation = reservation;
  settleOnEnd(req, res, reservation, config);
  return undefined;
}

/**
 * Express middleware that reserves stock before the order handler runs.
 *
 * Sold out: `next(err)` with a 409 carrying `key`, `requested` and
 * `available`. Bad key or quantity: 400. Redis or the loader unavailable:
 * 503 within the store's deadlines. Otherwise `req.reservation` is set and
 * the handler runs; the units go back (once) when the response ends with a
 * status that `releaseWhen` accepts (>= 400 by default), and are kept on
 * any other response or after `req.reservation.commit()`.
 *
 * @example
 * app.post('/orders', express.json(), reserveStock({
 *   store,
 *   key: (req) => req.body.sku,
 *   qty: (req) => req.body.qty,
 *   loader: (sku) => stockFromDb(sku),
 * }), placeOrder);
 */
export function reserveStock(options: ReserveStockOptions): RequestHandler {
  const config = resolveMiddlewareOptions(options);
  return function reserveStockMiddleware(req: Request, res: Response, next: NextFunction): void {
    reserveFor(req, res, config).then(next, next);
  };
}
