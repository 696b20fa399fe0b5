import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { badInput, isHttpError, soldOut } from '../errors';
import type { Reservation } from '../types';
import { assertKey, assertQuantity } from '../validation/input';
import { checkIdempotencyKey, claimRequest, fingerprintOf, recordOnEnd, replay } from './idempotency';
import { onResponseEnd } from './on-response-end';
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

/** reserveFor's answer when it has answered the request itself (a replay). */
const ANSWERED = Symbol('answered');

function readInput(req: Request, config: MiddlewareConfig): Promise<[key: string, qty: number, idempotencyKey: string | undefined]> {
  return (async () => {
    let key: unknown;
    let qty: unknown;
    try {
      key = await config.readKey(req);
      qty = await config.readQty(req);
    } catch (error) {
      throw isHttpError(error) ? error : badInput('Could not read the stock key and quantity from the request', error);
    }
    assertKey(key);
    assertQuantity(qty);
    return [key, qty, checkIdempotencyKey(config.readIdempotencyKey?.(req))];
  })();
}

async function reserveFor(req: Request, res: Response, config: MiddlewareConfig): Promise<unknown> {
  const [key, qty, idempotencyKey] = await readInput(req, config);
  const { store } = config;
  if (idempotencyKey !== undefined) {
    const fingerprint = fingerprintOf(req, key, qty);
    const retry = await claimRequest(store, idempotencyKey, fingerprint, config.holdSeconds ?? store.holdSeconds);
    if (retry) {
      if ('error' in retry) return retry.error;
      replay(res, retry.replay);
      return ANSWERED;
    }
    // The claim, not the hold id, keeps a retry from reserving again; the
    // hold id stays random, so that a retry after a 5xx (claim dropped, hold
    // released) gets a hold of its own.
    recordOnEnd(res, store, idempotencyKey, fingerprint, config.idempotencySeconds);
  }
  const { loader } = config;
  const result = await store.reserve(key, qty, loader && ((k) => loader(k, req)), { holdSeconds: config.holdSeconds });
  if (result.status === 'insufficient') return soldOut(key, qty, result.available);
  const remaining = result.status === 'reserved' ? result.remaining : -1;
  const reservation = new HeldReservation(key, qty, remaining, result.holdId, result.expiresAt, store);
  req.reservation = reservation;
  onResponseEnd(res, () => {
    if (config.releaseWhen(res.statusCode, req, res)) void reservation.release();
    else if (config.autoCommit) void reservation.commit();
  });
  return undefined;
}

/**
 * Express middleware that reserves stock before the order handler runs.
 *
 * Sold out: `next(err)` with a 409 carrying `key`, `requested` and
 * `available`. Bad key or quantity: 400. Redis or the loader unavailable:
 * 503 within the store's deadlines. Otherwise the units are held,
 * `req.reservation` is set and the handler runs. When the handler ends the
 * response, the hold is released if `releaseWhen` says so (status >= 400 by
 * default), else committed (unless `autoCommit: false`). A hold nobody
 * settles gives its units back after `holdSeconds`.
 *
 * With an `Idempotency-Key` header, a retry reserves nothing again: it gets
 * the first answer (409 while the first request runs, 422 for another request).
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
    reserveFor(req, res, config).then((outcome) => {
      if (outcome !== ANSWERED) next(outcome);
    }, next);
  };
}
