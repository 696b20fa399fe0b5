import type { Request, Response } from 'express';
import { ConfigError } from '../errors';
import { MAX_HOLD_SECONDS } from '../store/options';
import { createStockStore } from '../store/redis-store';
import type { CartLine, LoadedStock, RedisClient, StockEventHandler, StockStore } from '../types';
import { MAX_UNITS } from '../validation/input';
import { functionOption, intOption } from '../validation/options';
import { answerAsJson, type RefusalHandler } from './refusal';
import { bodyFingerprint } from './fingerprint';

/** A value, or a function of the request that gives it. */
export type FromRequest<T> = T | ((req: Request) => T | Promise<T>);

/** Options of {@link reserveStock}. */
export interface ReserveStockOptions {
  /** The stock store. Give this or `redis`. */
  store?: StockStore;
  /** A shop's ioredis client; the middleware then makes its own store with the defaults. */
  redis?: RedisClient;
  /** Receives every event of the store made from `redis` (give it to `createStockStore` otherwise). */
  onEvent?: StockEventHandler;
  /** The item to reserve: a string, or read from the request. Required, unless `items` is given. */
  key?: FromRequest<string>;
  /** Units to reserve: a positive whole number, or read from the request. Default 1. */
  qty?: FromRequest<number>;
  /**
   * A cart instead of one item: its lines, read from the request. All are
   * reserved or none; lines of the same key are merged; an empty cart or a
   * bad line is a 400. `req.reservation` is then a `CartReservation`.
   */
  items?: (req: Request) => readonly CartLine[] | Promise<readonly CartLine[]>;
  /**
   * Initial stock from the source of truth when Redis has no figure: an
   * integer >= 0, or -1 for unlimited; or `{ stock, limit }` with the item's
   * own per-customer limit (see `perCustomerLimit`). An http-error it throws
   * passes through.
   */
  loader?: (key: string, req: Request) => number | LoadedStock | Promise<number | LoadedStock>;
  /**
   * Who is buying: the signed-in customer (your session's), the id a
   * per-customer limit counts against. An http-error it throws (a 401, say)
   * passes through; any other failure, or a result that is not a non-empty
   * string of at most 512 characters, is a 400. Without it no limit applies.
   */
  customer?: (req: Request) => string | Promise<string>;
  /**
   * The most units of an item one customer may hold and buy, checked and
   * counted in the same atomic step as the deduction: open holds and
   * committed ones count, a release or an expiry gives units back. A number
   * for every item, or a function of the item's key (and the request); 0 is
   * no limit. Default: each item's own limit, from the loader's `{ stock,
   * limit }` or `store.setLimit`. Past it the request is refused: 409
   * `ERR_RESERVE_STOCK_LIMIT` with `key`, `limit`, `requested` and `bought`
   * (a cart's: `lines`, each line over its limit with those four), and
   * nothing is reserved. Needs `customer`.
   */
  perCustomerLimit?: number | ((key: string, req: Request) => number | Promise<number>);
  /**
   * Whether the response means the order failed and the units go back.
   * Default: status >= 400.
   */
  releaseWhen?: (statusCode: number, req: Request, res: Response) => boolean;
  /**
   * What a refused request gets (400, 409 sold out, 409 or 422 of an
   * `Idempotency-Key`, 503, or the loader's own http-error). Default: the
   * middleware answers as JSON, `{ error: { status, code, message, ... } }`
   * (see `errorBody`), a 503 with `Retry-After`, and logs nothing.
   * `(error, req, res, next) => next(error)` hands the error to your Express
   * error handler instead.
   */
  handler?: RefusalHandler;
  /**
   * Whether a response that keeps the units also commits the hold. Default
   * true. With false the hold stays open after the response, for a commit
   * or release by `holdId` later (a payment provider's webhook), or expiry.
   */
  autoCommit?: boolean;
  /** How long a hold lasts unless committed, released or extended. Default: the store's (900 s). */
  holdSeconds?: number;
  /**
   * The request's idempotency key, or undefined for none: a retry with the
   * same key does not reserve again and, once the first request is answered,
   * gets the same status and body. Default: the `Idempotency-Key` header.
   * `false` turns idempotency off.
   */
  idempotencyKey?: false | ((req: Request) => string | undefined);
  /**
   * Whose idempotency key it is (the signed-in customer, the API key...):
   * the same key in two scopes names two requests. Without it keys are
   * global: two clients that send the same key share one record, and the
   * second gets the first one's answer. Read only for requests with a key;
   * an http-error it throws passes through, any other failure or a result
   * that is not a non-empty string (at most 512 characters) is a 400.
   */
  idempotencyScope?: (req: Request) => string | Promise<string>;
  /**
   * What a retry must repeat besides the method, the path and what it
   * reserves (these always count): a different result is a 422. Default:
   * the whole parsed body as canonical JSON (key order does not matter).
   * Give it to narrow the match (leave out a field that may change between
   * retries) or to widen it (a query parameter, a body no parser read).
   */
  fingerprint?: (req: Request) => string | Promise<string>;
  /** How long an answered request is remembered for retries. Default 86400 s. */
  idempotencySeconds?: number;
  /**
   * The largest response body kept for replaying to a retry, in bytes.
   * After a larger answer a retry gets a 409
   * `ERR_RESERVE_STOCK_IDEMPOTENCY_TOO_LARGE` (with the first answer's
   * status as `firstStatus`), and still reserves nothing. Default 65536.
   */
  maxReplayBytes?: number;
}

/** {@link ReserveStockOptions} with every default filled in, checked once. */
export interface MiddlewareConfig {
  store: StockStore;
  /** One item's key and quantity, or a cart's lines. */
  read: { item: [key: (req: Request) => unknown, qty: (req: Request) => unknown] } | { cart: (req: Request) => unknown };
  loader: ReserveStockOptions['loader'];
  /** Who is buying; undefined without the `customer` option. */
  readCustomer: ((req: Request) => unknown) | undefined;
  /** A line's limit (undefined: the item's own). */
  readLimit: ((key: string, req: Request) => unknown) | undefined;
  releaseWhen: (statusCode: number, req: Request, res: Response) => boolean;
  handler: RefusalHandler;
  autoCommit: boolean;
  holdSeconds: number | undefined;
  /** Undefined when idempotency is off. */
  idempotency: IdempotencyConfig | undefined;
}

/** The idempotency options of {@link ReserveStockOptions}, resolved. */
export interface IdempotencyConfig {
  readKey: (req: Request) => unknown;
  readScope: ((req: Request) => unknown) | undefined;
  readFingerprint: (req: Request) => unknown;
  seconds: number;
  maxReplayBytes: number;
}

const failed = (statusCode: number) => statusCode >= 400;
/** Bodies are buffered for the record: at most this much, whatever the option says. */
const MAX_REPLAY_BYTES = 16 * 1024 * 1024;
const idempotencyHeader = (req: Request) => req.headers['idempotency-key'];

function reader<T>(value: FromRequest<T> | undefined, name: string, fallback?: T): (req: Request) => unknown {
  if (typeof value === 'function') return value as (req: Request) => unknown;
  if (value === undefined && fallback === undefined) {
    throw new ConfigError('ERR_RESERVE_STOCK_KEY', `option "${name}" is required: a value or a function of the request`);
  }
  const constant = value ?? fallback;
  return () => constant;
}

function resolveStore(options: ReserveStockOptions): StockStore {
  const { store, redis, onEvent } = options;
  if (store && redis) {
    throw new ConfigError('ERR_RESERVE_STOCK_STORE', 'give either "store" or "redis", not both');
  }
  if (store) {
    if (onEvent) {
      throw new ConfigError('ERR_RESERVE_STOCK_OPTION', 'option "onEvent" goes to createStockStore when you pass a "store"');
    }
    if (typeof store.reserve !== 'function' || typeof store.commit !== 'function' || typeof store.release !== 'function') {
      throw new ConfigError('ERR_RESERVE_STOCK_STORE', 'option "store" must be a StockStore (see createStockStore)');
    }
    return store;
  }
  if (!redis) {
    throw new ConfigError('ERR_RESERVE_STOCK_STORE', 'option "store" (or "redis") is required');
  }
  return createStockStore({ redis, onEvent });
}

function resolveRead(options: ReserveStockOptions): MiddlewareConfig['read'] {
  if (options.items === undefined) return { item: [reader(options.key, 'key'), reader(options.qty, 'qty', 1)] };
  if (options.key !== undefined || options.qty !== undefined) {
    throw new ConfigError('ERR_RESERVE_STOCK_KEY', 'give either "items" (a cart) or "key" and "qty", not both');
  }
  return { cart: functionOption<(req: Request) => unknown>(options, 'items') as (req: Request) => unknown };
}

/** `customer` and `perCustomerLimit`: a limit needs a customer to count against. */
function resolveLimits(options: ReserveStockOptions): Pick<MiddlewareConfig, 'readCustomer' | 'readLimit'> {
  const readCustomer = functionOption<(req: Request) => unknown>(options, 'customer');
  const limit = options.perCustomerLimit;
  if (limit === undefined) return { readCustomer, readLimit: undefined };
  if (!readCustomer) {
    throw new ConfigError('ERR_RESERVE_STOCK_OPTION', 'option "perCustomerLimit" needs option "customer": whom to count against');
  }
  if (typeof limit === 'function') return { readCustomer, readLimit: limit };
  const constant = intOption(options, 'perCustomerLimit', 0, 0, MAX_UNITS);
  return { readCustomer, readLimit: () => constant };
}

/** The idempotency options, each checked even when `idempotencyKey: false` turns them off. */
function resolveIdempotency(options: ReserveStockOptions): IdempotencyConfig | undefined {
  const off = options.idempotencyKey === false;
  const readKey = off ? undefined : functionOption<(req: Request) => unknown>(options, 'idempotencyKey', idempotencyHeader);
  const rest = {
    readScope: functionOption<(req: Request) => unknown>(options, 'idempotencyScope'),
    readFingerprint: functionOption<(req: Request) => unknown>(options, 'fingerprint', bodyFingerprint),
    seconds: intOption(options, 'idempotencySeconds', 86_400, 1),
    maxReplayBytes: intOption(options, 'maxReplayBytes', 65_536, 0, MAX_REPLAY_BYTES),
  };
  return readKey && { readKey, ...rest };
}

export function resolveMiddlewareOptions(options: ReserveStockOptions): MiddlewareConfig {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError('ERR_RESERVE_STOCK_OPTION', 'reserveStock takes an options object');
  }
  const autoCommit = options.autoCommit ?? true;
  if (typeof autoCommit !== 'boolean') {
    throw new ConfigError('ERR_RESERVE_STOCK_OPTION', 'option "autoCommit" must be true or false');
  }
  return {
    store: resolveStore(options),
    read: resolveRead(options),
    loader: functionOption(options, 'loader'),
    ...resolveLimits(options),
    releaseWhen: functionOption(options, 'releaseWhen', failed),
    handler: functionOption(options, 'handler', answerAsJson),
    autoCommit,
    holdSeconds: options.holdSeconds === undefined ? undefined : intOption(options, 'holdSeconds', 0, 1, MAX_HOLD_SECONDS),
    idempotency: resolveIdempotency(options),
  };
}
