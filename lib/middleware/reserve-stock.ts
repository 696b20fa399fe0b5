import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { badInput, cartOverLimit, cartSoldOut, limitReached, soldOut } from '../errors';
import { assertCustomer } from '../store/customer';
import type { CartLine, CartReservation, Reservation } from '../types';
import { mergeCart } from '../validation/cart';
import { assertKey, assertLimit, assertQuantity } from '../validation/input';
import { HeldCart } from './cart-reservation';
import { fingerprintOf } from './fingerprint';
import { checkIdempotencyKey, claimRequest, readScope, recordOnEnd, replay, type Retry } from './idempotency';
import { onResponseEnd } from './on-response-end';
import { readFromRequest } from './read-from-request';
import { resolveMiddlewareOptions, type MiddlewareConfig, type ReserveStockOptions } from './options';
import { refuse } from './refusal';
import { HeldReservation } from './reservation';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /**
       * Set by `reserveStock` once the units are reserved: a `Reservation`
       * (`kind: 'item'`), or a `CartReservation` (`kind: 'cart'`) with `items`.
       */
      reservation?: Reservation | CartReservation;
    }
  }
}

/** reserveFor's answer when it has answered the request itself (a replay). */
const ANSWERED = Symbol('answered');

/** Who is buying and the per-customer limits that apply (see `customer`, `perCustomerLimit`). */
interface Buyer {
  customer?: string;
  /** Each item's limit; none: the item's own. */
  limits: Map<string, number>;
}

/** What a request asks for: one item, or a cart's lines (merged, in key order), and who for. */
type Wanted = ({ key: string; qty: number } | { lines: CartLine[] }) & Buyer;

async function readWanted(req: Request, config: MiddlewareConfig): Promise<Wanted> {
  const { read } = config;
  const what = 'what to reserve';
  if ('cart' in read) {
    const lines = mergeCart(await readFromRequest(read.cart, req, what));
    return { lines, ...(await readBuyer(req, config, lines)) };
  }
  const key = await readFromRequest(read.item[0], req, what);
  const qty = await readFromRequest(read.item[1], req, what);
  assertKey(key);
  assertQuantity(qty);
  return { key, qty, ...(await readBuyer(req, config, [{ key, qty }])) };
}

async function readBuyer(req: Request, { readCustomer, readLimit }: MiddlewareConfig, lines: readonly CartLine[]): Promise<Buyer> {
  const limits = new Map<string, number>();
  if (!readCustomer) return { limits };
  const customer = await readFromRequest(readCustomer, req, 'the customer');
  assertCustomer(customer);
  if (readLimit) {
    for (const { key } of lines) {
      const limit = await readFromRequest((r) => readLimit(key, r), req, 'the per-customer limit');
      assertLimit(limit);
      limits.set(key, limit);
    }
  }
  return { customer, limits };
}

/**
 * Claims the request's idempotency record: `undefined` to go ahead (no key,
 * or claimed now, the answer to be recorded), or what a retry gets. The key,
 * scope and fingerprint are all read before anything is claimed.
 */
async function claimFor(req: Request, res: Response, wanted: Wanted, config: MiddlewareConfig): Promise<Retry | undefined> {
  const { idempotency, store } = config;
  if (idempotency === undefined) return undefined;
  const key = checkIdempotencyKey(await readFromRequest(idempotency.readKey, req, 'the Idempotency-Key'));
  if (key === undefined) return undefined;
  const scope = idempotency.readScope && (await readScope(idempotency.readScope, req));
  const detail = await readFromRequest(idempotency.readFingerprint, req, 'the idempotency fingerprint');
  if (typeof detail !== 'string') throw badInput('The idempotency fingerprint must be a string');
  const id = { key, scope };
  const fingerprint = fingerprintOf(req, 'lines' in wanted ? wanted.lines : [wanted.key, wanted.qty], detail);
  const retry = await claimRequest(store, id, fingerprint, config.holdSeconds ?? store.holdSeconds);
  // The claim, not the hold id, keeps a retry from reserving again; the
  // hold id stays random, so that a retry after a 5xx (claim dropped, hold
  // released) gets a hold of its own.
  if (!retry) recordOnEnd(res, store, { id, fingerprint, seconds: idempotency.seconds, maxBytes: idempotency.maxReplayBytes });
  return retry;
}

/** Reserves what the request asks for: the reservation, or the sold-out or over-the-limit error. */
async function hold(req: Request, wanted: Wanted, config: MiddlewareConfig): Promise<Reservation | CartReservation | Error> {
  const { store, loader, holdSeconds } = config;
  const load = loader && ((key: string) => loader(key, req));
  const { customer, limits } = wanted;
  if ('lines' in wanted) {
    const result = await store.reserveCart(wanted.lines, load, { holdSeconds, customer, limit: (key) => limits.get(key) });
    if (result.status === 'insufficient') return cartSoldOut(result.short);
    if (result.status === 'limit') return cartOverLimit(result.over);
    return new HeldCart(result.lines, store);
  }
  const { key, qty } = wanted;
  const result = await store.reserve(key, qty, load, { holdSeconds, customer, limit: limits.get(key) });
  if (result.status === 'insufficient') return soldOut(key, qty, result.available);
  if (result.status === 'limit') return limitReached(key, result.limit, qty, result.bought);
  const remaining = result.status === 'reserved' ? result.remaining : -1;
  return new HeldReservation(key, qty, remaining, result.holdId, result.expiresAt, store);
}

async function reserveFor(req: Request, res: Response, config: MiddlewareConfig): Promise<unknown> {
  const wanted = await readWanted(req, config);
  const retry = await claimFor(req, res, wanted, config);
  if (retry) {
    if ('error' in retry) return retry.error;
    replay(res, retry.replay);
    return ANSWERED;
  }
  const reservation = await hold(req, wanted, config);
  if (reservation instanceof Error) return reservation;
  req.reservation = reservation;
  onResponseEnd(res, () => {
    // Not awaited: the answer need not wait for the hold's settling, and
    // release() and commit() never reject (failures go to onEvent and retry).
    if (config.releaseWhen(res.statusCode, req, res)) void reservation.release();
    else if (config.autoCommit) void reservation.commit();
  });
  return undefined;
}

/**
 * Express middleware that reserves stock before the order handler runs.
 *
 * A refused request is answered as JSON, `{ error: { status, code,
 * message, ... } }`, or handed to the `handler` option: sold out is a 409
 * carrying `key`, `requested` and `available` (a cart's: `lines`, each
 * short line with those three); a bad key or quantity a 400; Redis or the
 * loader unavailable a 503 with `Retry-After`, within the store's
 * deadlines; an http-error of the loader passes as it is. Otherwise the units are held,
 * `req.reservation` is set and the handler runs. When the handler ends the
 * response, the hold is released if `releaseWhen` says so (status >= 400 by
 * default), else committed (unless `autoCommit: false`). A hold nobody
 * settles gives its units back after `holdSeconds`.
 *
 * With an `Idempotency-Key` header, a retry reserves nothing again: it gets
 * the first answer (409 while the first request runs or when that answer
 * was over `maxReplayBytes`, 422 for another request: another method, path,
 * reservation or body). Keys are global unless `idempotencyScope` says
 * whose they are.
 *
 * @example
 * app.post('/orders', express.json(), reserveStock({
 *   store,
 *   key: (req) => req.body.sku,
 *   qty: (req) => req.body.qty,
 *   loader: (sku) => stockFromDb(sku),
 * }), placeOrder);
 *
 * // A cart: every line or none.
 * app.post('/checkout', express.json(), reserveStock({
 *   store,
 *   items: (req) => req.body.items.map((line) => ({ key: line.sku, qty: line.qty })),
 *   loader: (sku) => stockFromDb(sku),
 * }), placeCartOrder);
 */
export function reserveStock(options: ReserveStockOptions): RequestHandler {
  const config = resolveMiddlewareOptions(options);
  return function reserveStockMiddleware(req: Request, res: Response, next: NextFunction): void {
    const refused = (error: unknown) => refuse(error, config.handler, req, res, next);
    reserveFor(req, res, config).then((outcome) => {
      if (outcome === undefined) next();
      else if (outcome !== ANSWERED) refused(outcome);
    }, refused);
  };
}
