import type { Cluster, Redis } from 'ioredis';

/** The caller's own ioredis client: a single node or a Cluster. */
export type RedisClient = Redis | Cluster;

/**
 * Reads the initial stock of `key` from the source of truth (the database).
 * Returns an integer >= 0, or -1 for unlimited stock. An http-error it throws
 * (say a 404 for an unknown product) reaches the client unchanged.
 */
export type StockLoader = (key: string) => number | Promise<number>;

/** The outcome of {@link StockStore.reserve}. */
export type ReserveResult =
  | { status: 'reserved'; remaining: number }
  | { status: 'unlimited' }
  | { status: 'insufficient'; available: number };

/** What the store and the middleware report through `onEvent`. */
export type StockEvent =
  | { type: 'reserved'; key: string; qty: number; remaining: number }
  | { type: 'sold-out'; key: string; requested: number; available: number }
  | { type: 'released'; key: string; qty: number; stock: number | null }
  | { type: 'initialised'; key: string; stock: number }
  | { type: 'error'; operation: StockOperation; key?: string; error: Error };

/** The step an `error` event comes from. */
export type StockOperation = 'reserve' | 'release' | 'load' | 'lock' | 'event';

/** Receives every {@link StockEvent}. Its own errors are caught and ignored. */
export type StockEventHandler = (event: StockEvent) => void;

/**
 * Where stock lives. The middleware talks to this interface only;
 * {@link createStockStore} makes the Redis implementation.
 */
export interface StockStore {
  /**
   * Checks and deducts `qty` units of `key` in one atomic step. When the key
   * holds no figure yet, one caller across all processes runs `loader` under a
   * lock while the others wait for it; without a loader that case is a 503.
   */
  reserve(key: string, qty: number, loader?: StockLoader): Promise<ReserveResult>;
  /**
   * Gives back units of a reservation (reported as a `released` event).
   * Same return as {@link StockStore.addStock}.
   */
  release(key: string, qty: number): Promise<number | null>;
  /**
   * Adds units to a loaded figure. Returns the new stock, -1 when unlimited,
   * or `null` when the key holds no figure (nothing is written then).
   */
  addStock(key: string, qty: number): Promise<number | null>;
  /** The stock of `key`: -1 for unlimited, `null` when not initialised. */
  getStock(key: string): Promise<number | null>;
  /**
   * Writes the figure, over whatever is there (admin restock, tests).
   * `ttlSeconds` defaults to the store's; 0 means no expiry.
   */
  setStock(key: string, qty: number, ttlSeconds?: number): Promise<void>;
}

/** Options of {@link createStockStore}. */
export interface StockStoreOptions {
  /** The shop's ioredis client (single node or Cluster). Required. */
  redis: RedisClient;
  /** Prepended to every key this store writes. Default `stock:`. */
  prefix?: string;
  /** Expiry of a loaded figure in seconds; 0 = none. Default 3600. */
  ttlSeconds?: number;
  /**
   * Longest wait for one Redis command before the call fails with 503,
   * whatever the client's own retry settings. Default 2000 ms.
   */
  timeoutMs?: number;
  /** Longest wait for the loader before 503. Default 2000 ms. */
  loaderTimeoutMs?: number;
  /**
   * Expiry of the initialisation lock, so that a holder that died blocks the
   * others only this long. Must exceed `loaderTimeoutMs`. Default 5000 ms.
   */
  lockTtlMs?: number;
  /**
   * Longest a reservation spends on a missing figure (waiting for the lock
   * holder, or loading itself) before 503. Default 6000 ms.
   */
  initTimeoutMs?: number;
  /** Receives every {@link StockEvent}. */
  onEvent?: StockEventHandler;
}

/** The reservation the middleware puts on `req.reservation`. */
export interface Reservation {
  readonly key: string;
  readonly qty: number;
  /** Stock left after this reservation; -1 for unlimited stock. */
  readonly remaining: number;
  /** `held` until committed or released. */
  readonly state: 'held' | 'committed' | 'released';
  /** Keeps the units whatever happens after. Idempotent. */
  commit(): Promise<void>;
  /**
   * Gives the units back now. Idempotent, and a no-op after commit: units
   * are never returned twice.
   */
  release(): Promise<void>;
}
