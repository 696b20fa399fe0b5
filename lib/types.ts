import type { Cluster, Redis } from 'ioredis';

/** The caller's own ioredis client: a single node or a Cluster. */
export type RedisClient = Redis | Cluster;

/**
 * An item's stock as its loader gives it: the figure, and the item's own
 * per-customer limit (a whole number; 0 or none: no limit), which then lives
 * with the figure in Redis (see {@link ReserveOptions.limit}).
 */
export interface LoadedStock {
  stock: number;
  limit?: number;
}

/**
 * Reads the initial stock of `key` from the source of truth (the database):
 * an integer >= 0, or -1 for unlimited stock; or `{ stock, limit }` with the
 * item's own per-customer limit. An http-error it throws (say a 404 for an
 * unknown product) reaches the client unchanged.
 */
export type StockLoader = (key: string) => number | LoadedStock | Promise<number | LoadedStock>;

/** The outcome of {@link StockStore.reserve}. */
export type ReserveResult =
  | { status: 'reserved'; remaining: number; holdId: string; expiresAt: number }
  | { status: 'unlimited'; holdId: string; expiresAt: number }
  | { status: 'insufficient'; available: number }
  | {
      /** The customer would pass their limit of this item: nothing was reserved. */
      status: 'limit';
      limit: number;
      /** Units already counted toward the customer: in open holds and committed ones. */
      bought: number;
    };

/** Per-call options of {@link StockStore.reserve}. */
export interface ReserveOptions {
  /**
   * The hold's id, from {@link StockStore.holdId}. A call with an id that
   * already holds units answers as the first call did and deducts nothing.
   * Default: a new random id.
   */
  holdId?: string;
  /** How long the hold lasts unless committed, released or extended. Default: the store's. */
  holdSeconds?: number;
  /**
   * Who is buying (the signed-in customer, say): the id the per-customer
   * limit counts against. Without one, no limit applies.
   */
  customer?: string;
  /**
   * The most units of this item `customer` may hold and buy: open holds and
   * committed ones count; a release or an expiry gives units back. Checked
   * and counted in the same step as the deduction. Default: the item's own
   * limit, loaded with its figure ({@link LoadedStock}) or set with
   * {@link StockStore.setLimit}; 0: no limit.
   */
  limit?: number;
}

/** One line of a cart: `qty` units of `key`. */
export interface CartLine {
  key: string;
  qty: number;
}

/** A cart line as reserved: its own hold on its own item. */
export interface ReservedLine {
  key: string;
  qty: number;
  /** Stock left after this line; -1 for unlimited stock. */
  remaining: number;
  holdId: string;
  /** When the hold gives its units back by itself (ms since the epoch, Redis's clock). */
  expiresAt: number;
}

/** A cart line there is not enough stock for. */
export interface ShortLine {
  key: string;
  requested: number;
  available: number;
}

/** A cart line that would take its customer past their limit of that item. */
export interface OverLimitLine {
  key: string;
  requested: number;
  limit: number;
  /** Units already counted toward the customer. */
  bought: number;
}

/**
 * The outcome of {@link StockStore.reserveCart}: every line reserved, or
 * none, with every short line listed, or (when there is stock for every
 * line) every line over its customer's limit.
 */
export type CartResult =
  | { status: 'reserved'; lines: ReservedLine[] }
  | { status: 'insufficient'; short: ShortLine[] }
  | { status: 'limit'; over: OverLimitLine[] };

/** Per-call options of {@link StockStore.reserveCart}. */
export interface CartOptions {
  /** How long the holds last. Default: the store's. */
  holdSeconds?: number;
  /** Who is buying: every line counts against their limit of its item (see {@link ReserveOptions.customer}). */
  customer?: string;
  /** Each line's limit, by key (undefined: the item's own); see {@link ReserveOptions.limit}. */
  limit?: number | ((key: string) => number | undefined);
}

/**
 * A hold's state. Open, keeping its units: `held`; `prepared` (phase one of
 * a commit, see {@link StockStore.prepare}); `in-doubt` (prepared, then its
 * time came before its commit did: see {@link StockStore.resolveInDoubt}).
 * Then exactly one of `committed`, `released` or `expired`; `unknown` for an
 * id Redis never saw or has forgotten (see `retentionSeconds`).
 */
export type HoldState = 'held' | 'prepared' | 'in-doubt' | 'committed' | 'released' | 'expired' | 'unknown';

/** The outcome of {@link StockStore.prepare}, {@link StockStore.commit} and {@link StockStore.release}. */
export interface SettleResult {
  /** The hold's state after the call. */
  state: HoldState;
  /** True when this call moved it; false when it was there (or settled, or expired) before. */
  changed: boolean;
}

/** The outcome of {@link StockStore.extend}. */
export interface ExtendResult {
  /** `held` or `prepared` when extended; otherwise the state that kept it from being extended. */
  state: HoldState;
  /** The new expiry (ms since the epoch, Redis's clock), or null when not extended. */
  expiresAt: number | null;
}

/** An item's open holds, from {@link StockStore.getHolds}. */
export interface HoldsReport {
  key: string;
  /** Number of open holds. */
  count: number;
  /** Units the open holds keep. */
  units: number;
  /** Number of open holds in doubt (see {@link StockStore.resolveInDoubt}). */
  inDoubt: number;
  /** The open holds, soonest expiry first; at most the `limit` asked for (fewer than `count` then). */
  holds: { holdId: string; qty: number; expiresAt: number; state: HoldState }[];
}

/** The outcome of {@link StockStore.resolveInDoubt}: the hold ids it settled each way. */
export interface InDoubtResolution {
  key: string;
  committed: string[];
  released: string[];
}

/**
 * Answers whether the order of a hold reached the database (say, a row
 * carrying the hold id exists). Asked only about in-doubt holds.
 */
export type CommitCheck = (holdId: string) => boolean | Promise<boolean>;

/**
 * The database's stock figure for {@link StockStore.reconcile}: a number, or
 * a function that reads it (then a fix held back by prepared holds reads it
 * again and retries).
 */
export type DatabaseStock = number | (() => number | Promise<number>);

/** The outcome of {@link StockStore.reconcile}. */
export interface ReconcileReport {
  key: string;
  /** The figure the database gave. */
  database: number;
  /** The Redis figure (available units), -1 unlimited, null when not loaded. */
  redis: number | null;
  /** Units in open holds (reserved, not yet in the database). */
  held: number;
  /** Number of open holds. */
  openHolds: number;
  /**
   * Open holds prepared (orders committing right now): their units count as
   * held, though their orders may be in `database` already, so the drift
   * may over-state by up to their units. No fix is made while there are any.
   */
  prepared: number;
  /**
   * Open holds in doubt: their units count as held, though their orders
   * may be in the database already. No fix is made while there are any
   * (see {@link StockStore.resolveInDoubt}).
   */
  inDoubt: number;
  /**
   * redis + held - database: positive when Redis over-states (the database
   * guard turns the excess away), negative when it under-states (units that
   * could be sold are not). 0 when in step; null when not loaded or either
   * side is unlimited and they differ.
   */
  drift: number | null;
  /** Whether the figure was reset to database - held. */
  fixed: boolean;
  /** Why a fix that was asked for and needed was not made: holds prepared or in doubt. Null otherwise. */
  blockedBy: 'prepared' | 'in-doubt' | null;
  /** With `customers`: the per-customer counts checked against the open holds. */
  customers?: CustomerCountsReport;
}

/** Options of {@link StockStore.reconcile}. */
export interface ReconcileOptions {
  /** Reset the figure when it drifted (see {@link StockStore.reconcile}). */
  fix?: boolean;
  /**
   * Also check every customer's count (see {@link ReserveOptions.limit})
   * against their open holds: a count below the units its customer holds
   * means the limit was bypassed. Reads every open hold, a page per call.
   */
  customers?: boolean;
}

/**
 * Customers whose count disagrees with their open holds. Customers are
 * named by their digest in Redis ({@link customerDigest}), not by id.
 */
export interface CustomerCountsReport {
  /** Customers with open holds, checked. */
  checked: number;
  mismatched: { customer: string; counted: number; open: number }[];
}

/** What the store and the middleware report through `onEvent`. */
export type StockEvent =
  | { type: 'reserved'; key: string; qty: number; remaining: number; holdId: string }
  /** `cached`: answered from the remembered figure (see `soldOutCacheMs`), without calling Redis. */
  | { type: 'sold-out'; key: string; requested: number; available: number; cached: boolean }
  | { type: 'limit'; key: string; requested: number; limit: number; bought: number }
  | { type: 'committed'; key: string; holdId: string }
  | { type: 'released'; key: string; holdId: string }
  | { type: 'expired'; key: string; holds: number }
  | { type: 'initialised'; key: string; stock: number }
  | { type: 'reconciled'; key: string; drift: number | null; fixed: boolean }
  | { type: 'error'; operation: StockOperation; key?: string; error: Error };

/** The step an `error` event comes from. */
export type StockOperation = 'reserve' | 'replicate' | 'prepare' | 'commit' | 'release' | 'extend' | 'load' | 'lock' | 'idempotency';

/** Receives every {@link StockEvent}. Its own errors are caught and ignored. */
export type StockEventHandler = (event: StockEvent) => void;

/**
 * Where stock lives. The middleware talks to this interface only;
 * {@link createStockStore} makes the Redis implementation.
 */
export interface StockStore {
  /**
   * Checks and deducts `qty` units of `key` in one atomic step, under a hold
   * that gives them back by itself after `holdSeconds` unless committed.
   * When the key holds no figure yet, one caller across all processes runs
   * `loader` under a lock while the others wait for it; without a loader
   * that case is a 503.
   */
  reserve(key: string, qty: number, loader?: StockLoader, options?: ReserveOptions): Promise<ReserveResult>;
  /**
   * Reserves a cart: every line or none. Lines of the same key are merged
   * (an empty cart or a bad line is a 400). On a single Redis, or when every
   * key shares a Cluster hash slot, one atomic script; across slots, line by
   * line in key order, giving back the lines already held when one is short
   * (no partial cart stays reserved; no locks, so carts never deadlock).
   */
  reserveCart(lines: readonly CartLine[], loader?: StockLoader, options?: CartOptions): Promise<CartResult>;
  /**
   * A hold id for `key`: random, or derived from `seed` (the same seed gives
   * the same id, which makes a retried reservation idempotent).
   */
  holdId(key: string, seed?: string): string;
  /**
   * Phase one of a commit, for an order that commits to a database: call it
   * inside the order's transaction just before the commit, with the hold id
   * stored in the order. From then on the hold's expiry no longer gives its
   * units back: should the process die before {@link commit}, the hold turns
   * `in-doubt` when due, and {@link resolveInDoubt} settles it by asking the
   * database. Answers `prepared` when the hold is (now) prepared; any other
   * state means the units are no longer held, and the order must not commit.
   * Idempotent.
   */
  prepare(holdId: string): Promise<SettleResult>;
  /** Makes a hold's units permanent (the order is in the database). Idempotent. */
  commit(holdId: string): Promise<SettleResult>;
  /** Gives a hold's units back now. Idempotent; a no-op after commit or expiry. */
  release(holdId: string): Promise<SettleResult>;
  /** Makes an open hold last at least `seconds` from now. */
  extend(holdId: string, seconds: number): Promise<ExtendResult>;
  /**
   * An item's open holds and the units they keep: the totals, and up to
   * `limit` of the holds (default 1000), read a bounded page per call.
   */
  getHolds(key: string, options?: { limit?: number }): Promise<HoldsReport>;
  /**
   * Settles an item's in-doubt holds: commits those whose order
   * `wasCommitted` finds in the database, releases the others. Run it
   * periodically and before {@link reconcile}. A rejection of `wasCommitted`
   * leaves that hold in doubt and rejects.
   */
  resolveInDoubt(key: string, wasCommitted: CommitCheck): Promise<InDoubtResolution>;
  /**
   * Compares Redis (available + units in open holds) with the database's
   * figure; with `fix`, resets the Redis figure to database - held under the
   * initialisation lock. No fix is made while a hold is prepared or in
   * doubt (its order may be in the database's figure already): the report
   * says so in `blockedBy`. Give `databaseStock` as a function to have a fix
   * held back by prepared holds read the database again and retry (until
   * `initTimeoutMs`).
   */
  reconcile(key: string, databaseStock: DatabaseStock, options?: ReconcileOptions): Promise<ReconcileReport>;
  /**
   * Adds units to a loaded figure (a restock). Returns the new stock, -1 when
   * unlimited, or `null` when the key holds no figure (nothing is written then).
   */
  addStock(key: string, qty: number): Promise<number | null>;
  /** The stock of `key` (after expired holds are given back): -1 unlimited, `null` when not initialised. */
  getStock(key: string): Promise<number | null>;
  /**
   * Writes the figure over whatever is there (admin restock, tests); holds
   * taken before give nothing back to it. `ttlSeconds` defaults to the
   * store's; 0 means no expiry. The item's own per-customer limit stays.
   */
  setStock(key: string, qty: number, ttlSeconds?: number): Promise<void>;
  /**
   * Sets the item's own per-customer limit (0: none), the one a reservation
   * without a `limit` of its own checks: say, when an admin changes it in
   * the database. Holds counted before stay counted.
   */
  setLimit(key: string, limit: number): Promise<void>;
  /** Idempotency records of the middleware, on the same Redis. */
  readonly requests: RequestLedger;
  /** How long a hold lasts by default, in seconds. */
  readonly holdSeconds: number;
}

/**
 * Names one idempotency record: an idempotency key within its scope (whose
 * key it is: a customer, an API key). Two scopes never share a record;
 * without a scope every client shares one space of keys.
 */
export interface RequestId {
  key: string;
  scope: string | undefined;
}

/**
 * How a request was answered, for its retries: the answer itself (`done`,
 * the body in base64), or only its status when the body was larger than
 * the middleware keeps (`too-large`, see `maxReplayBytes`).
 */
export type AnsweredRequest =
  | { state: 'done'; fingerprint: string; status: number; contentType: string | null; body: string }
  | { state: 'too-large'; fingerprint: string; status: number };

/** A recorded request of the idempotency layer: still running, or answered. */
export type RequestRecord = { state: 'running'; fingerprint: string } | AnsweredRequest;

/**
 * Remembers requests by idempotency key and scope, so that a retry gets the
 * first outcome instead of buying twice.
 */
export interface RequestLedger {
  /**
   * Claims the record for a request with this fingerprint: `null` when
   * claimed now (go ahead), or the record already there.
   */
  claim(request: RequestId, fingerprint: string, runningSeconds: number): Promise<RequestRecord | null>;
  /** Records the outcome, kept `seconds`. */
  complete(request: RequestId, record: AnsweredRequest, seconds: number): Promise<void>;
  /** Forgets a claim whose outcome should not be replayed (a 5xx): the retry runs again. */
  abandon(request: RequestId): Promise<void>;
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
  /** How long a hold lasts unless committed, released or extended. Default 900 s. */
  holdSeconds?: number;
  /**
   * After a reservation, a prepare or a commit, wait until this many
   * replicas have its write (Redis `WAIT`, sent to the item's master: it
   * cannot run inside a script), so a failover loses fewer acknowledged
   * writes. Default 0: no wait.
   */
  waitReplicas?: number;
  /**
   * Longest `WAIT` for the replicas, ms. When fewer replicas answered in
   * time, the reservation stands and an `error` event (operation
   * `replicate`) says so. Default 100.
   */
  waitTimeoutMs?: number;
  /**
   * How long a settled hold is remembered, so that a resent command or a
   * retried request is recognised. Default 86400 s.
   */
  retentionSeconds?: number;
  /**
   * How long a sold-out answer is remembered, ms: once Redis says an item
   * has `available` units, requests for more than that are refused with the
   * same answer from memory, without a Redis call, for this long. Only
   * refusals come from memory, never a reservation, so nothing can be
   * oversold; the trade is that a buyer may be refused for up to this long
   * after units come back through another process (a give-back, expiry or
   * restock through this store forgets the item at once). Requests with
   * their own `holdId` always ask Redis. 0 turns it off; at most 250.
   * Default 100.
   */
  soldOutCacheMs?: number;
  /** Receives every {@link StockEvent}. */
  onEvent?: StockEventHandler;
}

/** The reservation the middleware puts on `req.reservation` for one item (`key`/`qty`). */
export interface Reservation {
  readonly kind: 'item';
  readonly key: string;
  readonly qty: number;
  /** Stock left after this reservation; -1 for unlimited stock. */
  readonly remaining: number;
  /** The hold's id: any process can commit, release or extend it through the store. */
  readonly holdId: string;
  /** When the hold gives its units back by itself (ms since the epoch, Redis's clock). */
  readonly expiresAt: number;
  /** As this process last saw it. */
  readonly state: HoldState;
  /**
   * Phase one of a commit (see {@link StockStore.prepare}): call it inside
   * the order's database transaction, just before it commits, with
   * {@link holdId} stored in the order. Rejects, so that the transaction
   * rolls back, when the units are no longer held (409) or Redis cannot
   * answer (503).
   */
  prepare(): Promise<SettleResult>;
  /** Keeps the units whatever happens after. Idempotent. */
  commit(): Promise<SettleResult>;
  /**
   * Gives the units back now. Idempotent, and a no-op after commit: units
   * are never returned twice. Never rejects: a failure is reported through
   * `onEvent` and retried; the hold's expiry is the backstop.
   */
  release(): Promise<SettleResult>;
  /** Makes the hold last at least `seconds` from now (a slow payment). */
  extend(seconds: number): Promise<ExtendResult>;
}

/** A cart's state as this process last saw it: its lines' common state, or `mixed`. */
export type CartState = HoldState | 'mixed';

/** The outcome of settling a whole cart: each line's, and what they add up to. */
export interface CartSettleResult {
  state: CartState;
  /** True when this call moved at least one line. */
  changed: boolean;
  lines: SettleResult[];
}

/**
 * The reservation the middleware puts on `req.reservation` for a cart
 * (`items`): one hold per line, settled together.
 */
export interface CartReservation {
  readonly kind: 'cart';
  readonly lines: readonly ReservedLine[];
  /**
   * Each line's own reservation, in the order of `lines`: for settling one
   * line apart from the others (an order whose database refused one line).
   */
  readonly holds: readonly Reservation[];
  /** When the first of the lines' holds gives its units back by itself. */
  readonly expiresAt: number;
  readonly state: CartState;
  /**
   * Phase one of a commit for every line (see {@link Reservation.prepare});
   * rejects when any line is no longer held, so that the order rolls back.
   */
  prepare(): Promise<CartSettleResult>;
  /** Keeps every line's units. Idempotent; never rejects (see {@link Reservation.commit}). */
  commit(): Promise<CartSettleResult>;
  /** Gives every line's units back now. Idempotent; never rejects. */
  release(): Promise<CartSettleResult>;
  /** Makes every line's hold last at least `seconds` from now; `expiresAt` null unless all were extended. */
  extend(seconds: number): Promise<{ state: CartState; expiresAt: number | null }>;
}
