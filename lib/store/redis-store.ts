import { randomBytes } from 'node:crypto';
import { badInput } from '../errors';
import { InitLock } from '../lock/init-lock';
import { bindCommands, type HoldList, type ReserveReply, type StockCommands } from '../scripts/commands';
import type {
  CartLine,
  CartOptions,
  CartResult,
  CommitCheck,
  ExtendResult,
  HoldState,
  HoldsReport,
  InDoubtResolution,
  ReconcileReport,
  ReserveOptions,
  ReserveResult,
  SettleResult,
  StockLoader,
  StockOperation,
  StockStore,
  StockStoreOptions,
} from '../types';
import { toError } from '../util/events';
import { mergeCart } from '../validation/cart';
import { assertKey, assertQuantity, assertStockFigure } from '../validation/input';
import { reserveLineByLine } from './cart';
import { reserveInOneCall, type CartHost } from './cart-in-one-call';
import { fitOneCall } from './cluster';
import { settleInBackground } from './settle-in-background';
import { holdIdOf, makeHoldId, nonceOf, parseHoldId } from './hold-id';
import { loadFigure, NOT_INITIALISED, whenFigureMissing } from './initialise';
import { StockKeysMemo, type StockKeys } from './keys';
import { resolveStoreOptions, type StoreConfig } from './options';
import { RedisCaller } from './redis-caller';
import { ReplicaWait } from './replica-wait';
import { RedisRequestLedger } from './request-ledger';

const UNLIMITED = -1;
const INSUFFICIENT = -2;

function assertWholeNumber(value: unknown, name: string, min: number): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw badInput(`${name} must be a whole number >= ${min}`);
  }
}

class RedisStockStore implements StockStore, CartHost {
  readonly commands: StockCommands;
  readonly caller: RedisCaller;
  readonly lock: InitLock;
  readonly requests: RedisRequestLedger;
  private readonly keys: StockKeysMemo;
  readonly replicas: ReplicaWait | undefined;

  constructor(readonly config: StoreConfig) {
    this.keys = new StockKeysMemo(config.prefix);
    this.commands = bindCommands(config.redis);
    this.caller = new RedisCaller(config.redis, config.timeoutMs);
    this.lock = new InitLock(config.redis, this.commands, this.caller, config.lockTtlMs);
    this.requests = new RedisRequestLedger(config, this.commands, this.caller);
    this.replicas = config.waitReplicas > 0 ? new ReplicaWait(config, this.caller) : undefined;
  }

  get holdSeconds(): number {
    return this.config.holdMs / 1000;
  }

  holdId(key: string, seed?: string): string {
    assertKey(key);
    return makeHoldId(key, seed);
  }

  async reserve(key: string, qty: number, loader?: StockLoader, options?: ReserveOptions): Promise<ReserveResult> {
    assertKey(key);
    assertQuantity(qty);
    const holdId = options?.holdId ?? makeHoldId(key);
    const nonce = options?.holdId === undefined ? nonceOf(holdId) : this.ownHold(holdId, key).nonce;
    const holdMs = this.holdMsOf(options?.holdSeconds);
    const keys = this.keys.of(key);
    let reply: ReserveReply;
    try {
      reply = await this.reserveOnce(keys, holdId, nonce, qty, holdMs);
      if (reply[0] === NOT_INITIALISED) {
        const { commands, config } = this;
        reply = await whenFigureMissing(
          this,
          keys,
          key,
          loader,
          async () => {
            const again = await this.reserveOnce(keys, holdId, nonce, qty, holdMs);
            return again[0] === NOT_INITIALISED ? undefined : again;
          },
          async (stock, epoch) => {
            const value = await this.caller.run(
              () =>
                commands.initAndReserveHold(...keys.holds, stock, config.ttlSeconds, qty, nonce, holdMs, config.retentionMs, epoch),
              this.onLateReply(holdId),
            );
            return { value, written: value[4] === 1 };
          },
        );
      }
    } catch (error) {
      this.reportUnavailable('reserve', key, error);
      throw error;
    }
    const result = this.toResult(key, qty, holdId, reply);
    if (this.replicas && result.status !== 'insufficient' && reply[5] !== 1) await this.replicas.after(key, keys.stock);
    return result;
  }

  private holdMsOf(holdSeconds: number | undefined): number {
    if (holdSeconds === undefined) return this.config.holdMs;
    assertWholeNumber(holdSeconds, 'holdSeconds', 1);
    return holdSeconds * 1000;
  }

  async reserveCart(lines: readonly CartLine[], loader?: StockLoader, options?: CartOptions): Promise<CartResult> {
    const cart = mergeCart(lines);
    const holdMs = this.holdMsOf(options?.holdSeconds);
    const keys = cart.map(({ key }) => this.keys.of(key));
    if (fitOneCall(this.config.redis, keys.map((k) => k.stock))) {
      try {
        return await reserveInOneCall(this, cart, keys, loader, holdMs);
      } catch (error) {
        this.reportUnavailable('reserve', (cart[0] as CartLine).key, error);
        throw error;
      }
    }
    return reserveLineByLine(this, cart, {
      loader,
      holdSeconds: options?.holdSeconds,
      available: (key) => this.availableOf(key, loader),
      soldOut: (line) => this.config.emit?.({ type: 'sold-out', ...line }),
    });
  }

  /** The figure of `key`, loaded first (reserving nothing) when missing. */
  private async availableOf(key: string, loader: StockLoader | undefined): Promise<number> {
    const stock = await this.getStock(key);
    if (stock !== null) return stock;
    await loadFigure(this, this.keys.of(key), key, loader);
    return (await this.getStock(key)) ?? 0;
  }

  private reserveOnce(keys: StockKeys, holdId: string, nonce: string, qty: number, holdMs: number): Promise<ReserveReply> {
    const { commands, config } = this;
    return this.caller.run(
      () => commands.reserveHold(...keys.holds, qty, nonce, holdMs, config.retentionMs),
      this.onLateReply(holdId),
    );
  }

  /** For a reservation that ran after its caller was told 503: releases its hold. */
  private onLateReply(holdId: string): (late: ReserveReply) => void {
    return (late) => {
      if (late[0] >= 0 || late[0] === UNLIMITED) void settleInBackground(this, holdId, 'release');
    };
  }

  private ownHold(holdId: string, key: string): { nonce: string } {
    const parsed = parseHoldId(holdId);
    if (parsed.key !== key) throw badInput(`Hold id is for another item than ${JSON.stringify(key)}`);
    return parsed;
  }

  private toResult(key: string, qty: number, holdId: string, reply: ReserveReply): ReserveResult {
    const [code, available, expiresAt, expired, , replayed] = reply;
    // A replayed answer (a resent command) reserved nothing: nothing to report.
    const emit = replayed === 1 ? undefined : this.config.emit;
    if (emit && expired > 0) emit({ type: 'expired', key, holds: expired });
    if (code >= 0) {
      emit?.({ type: 'reserved', key, qty, remaining: code, holdId });
      return { status: 'reserved', remaining: code, holdId, expiresAt };
    }
    if (code === UNLIMITED) {
      emit?.({ type: 'reserved', key, qty, remaining: UNLIMITED, holdId });
      return { status: 'unlimited', holdId, expiresAt };
    }
    if (code === INSUFFICIENT) {
      emit?.({ type: 'sold-out', key, requested: qty, available });
      return { status: 'insufficient', available };
    }
    throw new Error(`reserve-stock: unexpected reply ${code} from the reserve script`);
  }

  private reportUnavailable(operation: StockOperation, key: string, error: unknown): void {
    if ((error as { status?: number }).status === 503) {
      this.config.emit?.({ type: 'error', operation, key, error: toError(error) });
    }
  }

  reportExpired(key: string, expired: number): void {
    if (expired > 0) this.config.emit?.({ type: 'expired', key, holds: expired });
  }

  private async settle(holdId: string, action: 'prepare' | 'commit' | 'release'): Promise<SettleResult> {
    const { key, nonce } = parseHoldId(holdId);
    const { holds } = this.keys.of(key);
    try {
      const [state, changed, expired] = await this.caller.run(() =>
        this.commands.settleHold(...holds, nonce, action, this.config.retentionMs),
      );
      this.reportExpired(key, expired);
      if (changed === 1 && action !== 'prepare') {
        this.config.emit?.(action === 'commit' ? { type: 'committed', key, holdId } : { type: 'released', key, holdId });
      }
      // A prepare or commit a failover loses leaves a plain hold, whose expiry would give back units already sold.
      if (this.replicas && changed === 1 && action !== 'release') await this.replicas.after(key, holds[0]);
      return { state: state as HoldState, changed: changed === 1 };
    } catch (error) {
      this.reportUnavailable(action, key, error);
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
    const { key, nonce } = parseHoldId(holdId);
    assertWholeNumber(seconds, 'seconds', 1);
    const { holds } = this.keys.of(key);
    try {
      const [state, expiresAt, expired] = await this.caller.run(() =>
        this.commands.extendHold(...holds, nonce, seconds * 1000, this.config.retentionMs),
      );
      this.reportExpired(key, expired);
      return { state: state as HoldState, expiresAt: state === 'held' || state === 'prepared' ? expiresAt : null };
    } catch (error) {
      this.reportUnavailable('extend', key, error);
      throw error;
    }
  }

  private async inspect(key: string, list: HoldList) {
    assertKey(key);
    const { holds } = this.keys.of(key);
    const [figure, units, count, flat, expired, inDoubt] = await this.caller.run(() =>
      this.commands.inspectHolds(...holds, this.config.retentionMs, list),
    );
    this.reportExpired(key, expired);
    const listed: HoldsReport['holds'] = [];
    for (let i = 0; i < flat.length; i += 4) {
      listed.push({
        holdId: holdIdOf(key, String(flat[i])),
        qty: Number(flat[i + 1]),
        expiresAt: Number(flat[i + 2]),
        state: flat[i + 3] as HoldState,
      });
    }
    return { figure, units, count, listed, inDoubt };
  }

  async getHolds(key: string): Promise<HoldsReport> {
    const { units, count, listed, inDoubt } = await this.inspect(key, 'all');
    return { key, count, units, inDoubt, holds: listed };
  }

  async resolveInDoubt(key: string, wasCommitted: CommitCheck): Promise<InDoubtResolution> {
    const { listed } = await this.inspect(key, 'in-doubt');
    const resolution: InDoubtResolution = { key, committed: [], released: [] };
    for (const { holdId } of listed) {
      const committed = await wasCommitted(holdId);
      const { changed } = await this.settle(holdId, committed ? 'commit' : 'release');
      if (changed) resolution[committed ? 'committed' : 'released'].push(holdId);
    }
    return resolution;
  }

  async getStock(key: string): Promise<number | null> {
    const { figure } = await this.inspect(key, 'none');
    return figure === null ? null : Number(figure);
  }

  async reconcile(key: string, databaseStock: number, options?: { fix?: boolean }): Promise<ReconcileReport> {
    assertStockFigure(databaseStock);
    if (options !== undefined && (typeof options !== 'object' || options === null)) {
      throw badInput('reconcile options must be an object, such as { fix: true }');
    }
    const { figure, units: held, count: openHolds, inDoubt } = await this.inspect(key, 'none');
    const redis = figure === null ? null : Number(figure);
    const drift = driftOf(redis, held, databaseStock);
    let fixed = false;
    if (options?.fix === true && drift !== 0 && redis !== null && inDoubt === 0) {
      const keys = this.keys.of(key);
      const token = await this.lock.acquireWithin(keys.lock, this.config.initTimeoutMs);
      try {
        const [, after, expired] = await this.caller.run(() =>
          this.commands.resetFigure(...keys.holds, databaseStock, this.config.retentionMs),
        );
        this.reportExpired(key, expired);
        fixed = after !== null;
      } finally {
        this.lock.releaseQuietly(keys.lock, token, (error) =>
          this.config.emit?.({ type: 'error', operation: 'lock', key, error }),
        );
      }
    }
    this.config.emit?.({ type: 'reconciled', key, drift, fixed });
    return { key, database: databaseStock, redis, held, openHolds, inDoubt, drift, fixed };
  }

  async addStock(key: string, qty: number): Promise<number | null> {
    assertKey(key);
    assertQuantity(qty);
    const { holds } = this.keys.of(key);
    const [stock, expired] = await this.caller.run(() => this.commands.addStock(...holds, qty, this.config.retentionMs));
    this.reportExpired(key, expired);
    return stock;
  }

  async setStock(key: string, qty: number, ttlSeconds?: number): Promise<void> {
    assertKey(key);
    assertStockFigure(qty);
    if (ttlSeconds !== undefined) assertWholeNumber(ttlSeconds, 'ttlSeconds', 0);
    const ttl = ttlSeconds ?? this.config.ttlSeconds;
    const [figure, epoch] = this.keys.of(key).holds;
    await this.caller.run(() => this.commands.setStock(figure, epoch, qty, ttl, randomBytes(8).toString('hex'), ''));
  }
}

function driftOf(redis: number | null, held: number, database: number): number | null {
  if (redis === null) return null;
  if (redis === UNLIMITED || database === UNLIMITED) return redis === database ? 0 : null;
  return redis + held - database;
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
