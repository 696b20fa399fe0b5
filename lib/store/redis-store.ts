import { badInput } from '../errors';
import type {
  CartLine,
  CartOptions,
  CartResult,
  CommitCheck,
  DatabaseStock,
  ExtendResult,
  HoldsReport,
  InDoubtResolution,
  ReconcileOptions,
  ReconcileReport,
  ReserveOptions,
  ReserveResult,
  SettleResult,
  StockLoader,
  StockStore,
  StockStoreOptions,
} from '../types';
import { mergeCart } from '../validation/cart';
import { assertKey, assertLimit, assertQuantity, assertStockFigure, assertWholeNumber, MAX_UNITS } from '../validation/input';
import { holdStateOf } from '../scripts/replies';
import { reserveLineByLine } from './cart';
import { shortFromMemory } from './cart-from-memory';
import { reserveInOneCall } from './cart-in-one-call';
import { fitOneCall } from './cluster';
import { createContext, reportExpired, reportUnavailable, type StoreContext } from './context';
import { makeHoldId, parseHoldId } from './hold-id';
import { loadFigure } from './initialise';
import { holdMsOf, MAX_HOLD_SECONDS, MAX_TTL_SECONDS, resolveStoreOptions } from './options';
import { listHolds, PAGE_SIZE, readItem } from './read-item';
import { reconcile } from './reconcile';
import { RedisRequestLedger } from './request-ledger';
import { reserveItem } from './reserve-item';
import { settleInBackground } from './settle-in-background';
import { untilReaped } from './until-reaped';

/** Holds getHolds lists unless asked for another number. */
const DEFAULT_LIST_LIMIT = 1000;

class RedisStockStore implements StockStore {
  private readonly ctx: StoreContext;
  readonly requests: RedisRequestLedger;

  constructor(config: ReturnType<typeof resolveStoreOptions>) {
    this.ctx = createContext(config, (holdId) => void settleInBackground(this, holdId, 'release'));
    this.requests = new RedisRequestLedger(config, this.ctx.commands, this.ctx.caller);
  }

  get holdSeconds(): number {
    return this.ctx.config.holdMs / 1000;
  }

  holdId(key: string, seed?: string): string {
    assertKey(key);
    return makeHoldId(key, seed);
  }

  reserve(key: string, qty: number, loader?: StockLoader, options?: ReserveOptions): Promise<ReserveResult> {
    return reserveItem(this.ctx, key, qty, loader, options);
  }

  async reserveCart(lines: readonly CartLine[], loader?: StockLoader, options?: CartOptions): Promise<CartResult> {
    const { ctx } = this;
    const cart = mergeCart(lines);
    const holdMs = holdMsOf(ctx.config, options?.holdSeconds);
    const remembered = shortFromMemory(ctx, cart, options);
    if (remembered.length > 0) return { status: 'insufficient', short: remembered };
    const keys = cart.map(({ key }) => ctx.keys.of(key));
    if (fitOneCall(ctx.config.redis, keys.map((k) => k.stock))) {
      try {
        return await reserveInOneCall(ctx, cart, keys, loader, holdMs, options);
      } catch (error) {
        reportUnavailable(ctx, 'reserve', (cart[0] as CartLine).key, error);
        throw error;
      }
    }
    return reserveLineByLine(this, cart, {
      loader,
      holdSeconds: options?.holdSeconds,
      customer: options?.customer,
      limit: options?.limit,
      available: (key) => this.availableOf(key, loader),
      soldOut: (line) => ctx.config.emit?.({ type: 'sold-out', ...line, cached: false }),
    });
  }

  /** The figure of `key`, loaded first (reserving nothing) when missing. */
  private async availableOf(key: string, loader: StockLoader | undefined): Promise<number> {
    const stock = await this.getStock(key);
    if (stock !== null) return stock;
    await loadFigure(this.ctx, this.ctx.keys.of(key), key, loader);
    return (await this.getStock(key)) ?? 0;
  }

  private async settle(holdId: string, action: 'prepare' | 'commit' | 'release'): Promise<SettleResult> {
    const { ctx } = this;
    const { key, nonce } = parseHoldId(holdId);
    const { holds } = ctx.keys.of(key);
    try {
      const [state, changed, expired] = await ctx.caller.run(() =>
        ctx.commands.settleHold(...holds, nonce, action, ctx.config.retentionMs),
      );
      reportExpired(ctx, key, expired);
      if (changed === 1 && action === 'release') ctx.soldOut.forget(key);
      if (changed === 1 && action !== 'prepare') {
        ctx.config.emit?.(action === 'commit' ? { type: 'committed', key, holdId } : { type: 'released', key, holdId });
      }
      // A prepare or commit a failover loses leaves a plain hold, whose expiry would give back units already sold.
      if (ctx.replicas && changed === 1 && action !== 'release') await ctx.replicas.after(key, holds[0]);
      return { state: holdStateOf(state), changed: changed === 1 };
    } catch (error) {
      reportUnavailable(ctx, action, key, error);
      throw error;
    }
  }

  prepare(holdId: string): Promise<SettleResult> {
    return this.settle(holdId, 'prepare');
  }

  commit(holdId: string): Promise<SettleResult> {
    return this.settle(holdId, 'commit');
  }

  release(holdId: string): Promise<SettleResult> {
    return this.settle(holdId, 'release');
  }

  async extend(holdId: string, seconds: number): Promise<ExtendResult> {
    const { ctx } = this;
    const { key, nonce } = parseHoldId(holdId);
    assertWholeNumber(seconds, 'seconds', 1, MAX_HOLD_SECONDS);
    const { holds } = ctx.keys.of(key);
    try {
      const [state, expiresAt, expired] = await ctx.caller.run(() =>
        ctx.commands.extendHold(...holds, nonce, seconds * 1000, ctx.config.retentionMs),
      );
      reportExpired(ctx, key, expired);
      const named = holdStateOf(state);
      return { state: named, expiresAt: named === 'held' || named === 'prepared' ? expiresAt : null };
    } catch (error) {
      reportUnavailable(ctx, 'extend', key, error);
      throw error;
    }
  }

  async getHolds(key: string, options?: { limit?: number }): Promise<HoldsReport> {
    assertKey(key);
    const limit = options?.limit ?? DEFAULT_LIST_LIMIT;
    assertWholeNumber(limit, 'limit', 0);
    const { units, count, inDoubt } = await readItem(this.ctx, key);
    const listed = count === 0 || limit === 0 ? [] : await listHolds(this.ctx, key, 'all', limit);
    const holds = listed.map(({ holdId, qty, expiresAt, state }) => ({ holdId, qty, expiresAt, state }));
    return { key, count, units, inDoubt, holds };
  }

  async resolveInDoubt(key: string, wasCommitted: CommitCheck): Promise<InDoubtResolution> {
    assertKey(key);
    const resolution: InDoubtResolution = { key, committed: [], released: [] };
    // Each page's holds leave the in-doubt list as they are settled: read the first page again until it is empty.
    for (;;) {
      const page = await listHolds(this.ctx, key, 'in-doubt', PAGE_SIZE);
      if (page.length === 0) return resolution;
      for (const { holdId } of page) {
        const committed = await wasCommitted(holdId);
        const { changed } = await this.settle(holdId, committed ? 'commit' : 'release');
        if (changed) resolution[committed ? 'committed' : 'released'].push(holdId);
      }
    }
  }

  async getStock(key: string): Promise<number | null> {
    assertKey(key);
    return (await readItem(this.ctx, key)).figure;
  }

  reconcile(key: string, databaseStock: DatabaseStock, options?: ReconcileOptions): Promise<ReconcileReport> {
    return reconcile(this.ctx, key, databaseStock, options);
  }

  async addStock(key: string, qty: number): Promise<number | null> {
    const { ctx } = this;
    assertKey(key);
    assertQuantity(qty);
    const { holds } = ctx.keys.of(key);
    const [status, stock, expired] = await untilReaped(
      ctx,
      key,
      () => ctx.caller.run(() => ctx.commands.addStock(...holds, qty, ctx.config.retentionMs, MAX_UNITS)),
      (reply) => ({ again: reply[0] === 'again', expired: reply[2] }),
    );
    reportExpired(ctx, key, expired);
    ctx.soldOut.forget(key);
    if (status === 'over') throw badInput(`A restock of ${qty} would take the stock of ${JSON.stringify(key)} (with its open holds) past ${MAX_UNITS}`);
    return stock;
  }

  async setStock(key: string, qty: number, ttlSeconds?: number): Promise<void> {
    const { ctx } = this;
    assertKey(key);
    assertStockFigure(qty);
    if (ttlSeconds !== undefined) assertWholeNumber(ttlSeconds, 'ttlSeconds', 0, MAX_TTL_SECONDS);
    const ttl = ttlSeconds ?? ctx.config.ttlSeconds;
    const { holds } = ctx.keys.of(key);
    await ctx.caller.run(() => ctx.commands.setStock(...holds, qty, ttl, '', ctx.config.retentionMs, ''));
    ctx.soldOut.forget(key);
  }

  async setLimit(key: string, limit: number): Promise<void> {
    const { ctx } = this;
    assertKey(key);
    assertLimit(limit);
    const keys = ctx.keys.of(key);
    // Under the initialisation lock: a load that read the old limit from the database cannot write it over this one.
    const token = await ctx.lock.acquireWithin(keys.lock, ctx.config.initTimeoutMs);
    try {
      await ctx.caller.run(() => ctx.commands.setLimit(...keys.holds, limit, ctx.config.retentionMs));
      ctx.soldOut.forget(key);
    } finally {
      ctx.lock.releaseQuietly(keys.lock, token, (error) => ctx.config.emit?.({ type: 'error', operation: 'lock', key, error }));
    }
  }
}

/**
 * Makes the Redis stock store on the shop's own ioredis client (single node
 * or Cluster). Options are checked here, once: a misconfiguration throws a
 * {@link ConfigError} with a stable `code`.
 *
 * @example
 * const store = createStockStore({ redis: new Redis(), prefix: 'stock:', ttlSeconds: 3600 });
 * const result = await store.reserve('sku-1', 2, (sku) => stockFromDb(sku));
 * if (result.status === 'reserved') await store.commit(result.holdId);
 */
export function createStockStore(options: StockStoreOptions): StockStore {
  return new RedisStockStore(resolveStoreOptions(options));
}
