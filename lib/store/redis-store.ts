import { badInput } from '../errors';
import { InitLock } from '../lock/init-lock';
import { bindCommands, type ReserveReply, type StockCommands } from '../scripts/commands';
import type { ReserveResult, StockLoader, StockStore, StockStoreOptions } from '../types';
import { toError } from '../util/events';
import { assertKey, assertQuantity, assertStockFigure } from '../validation/input';
import { giveBack } from './give-back';
import { NOT_INITIALISED, reserveWhenMissing, type InitContext } from './initialise';
import { stockKeys, type StockKeys } from './keys';
import { resolveStoreOptions, type StoreConfig } from './options';
import { RedisCaller } from './redis-caller';

const UNLIMITED = -1;
const INSUFFICIENT = -2;

class RedisStockStore implements StockStore, InitContext {
  readonly commands: StockCommands;
  readonly caller: RedisCaller;
  readonly lock: InitLock;

  constructor(readonly config: StoreConfig) {
    this.commands = bindCommands(config.redis);
    this.caller = new RedisCaller(config.redis, config.timeoutMs);
    this.lock = new InitLock(config.redis, this.commands, config.lockTtlMs);
  }

  async reserve(key: string, qty: number, loader?: StockLoader): Promise<ReserveResult> {
    assertKey(key);
    assertQuantity(qty);
    const keys = stockKeys(this.config.prefix, key);
    try {
      let reply = await this.reserveOnce(keys, key, qty);
      if (reply[0] === NOT_INITIALISED) reply = await reserveWhenMissing(this, keys, key, qty, loader);
      return this.toResult(key, qty, reply);
    } catch (error) {
      if ((error as { status?: number }).status === 503) {
        this.config.emit?.({ type: 'error', operation: 'reserve', key, error: toError(error) });
      }
      throw error;
    }
  }

  reserveOnce(keys: StockKeys, key: string, qty: number): Promise<ReserveReply> {
    return this.caller.run(() => this.commands.reserve(keys.stock, qty), this.onLateReply(key, qty));
  }

  /** For a deduction that ran after its caller was told 503: gives the units back. */
  onLateReply(key: string, qty: number): (late: ReserveReply) => void {
    return (late) => {
      if (late[0] >= 0) void giveBack(this, key, qty);
    };
  }

  private toResult(key: string, qty: number, [code, available]: ReserveReply): ReserveResult {
    const emit = this.config.emit;
    if (code >= 0) {
      emit?.({ type: 'reserved', key, qty, remaining: code });
      return { status: 'reserved', remaining: code };
    }
    if (code === UNLIMITED) {
      emit?.({ type: 'reserved', key, qty, remaining: UNLIMITED });
      return { status: 'unlimited' };
    }
    if (code === INSUFFICIENT) {
      emit?.({ type: 'sold-out', key, requested: qty, available });
      return { status: 'insufficient', available };
    }
    throw new Error(`reserve-stock: unexpected reply ${code} from the reserve script`);
  }

  async release(key: string, qty: number): Promise<number | null> {
    try {
      const stock = await this.addStock(key, qty);
      this.config.emit?.({ type: 'released', key, qty, stock });
      return stock;
    } catch (error) {
      this.config.emit?.({ type: 'error', operation: 'release', key, error: toError(error) });
      throw error;
    }
  }

  async addStock(key: string, qty: number): Promise<number | null> {
    assertKey(key);
    assertQuantity(qty);
    const { stock } = stockKeys(this.config.prefix, key);
    return this.caller.run(() => this.commands.addStock(stock, qty));
  }

  async getStock(key: string): Promise<number | null> {
    assertKey(key);
    const { stock } = stockKeys(this.config.prefix, key);
    const raw = await this.caller.run(() => this.config.redis.get(stock));
    return raw === null ? null : Number(raw);
  }

  async setStock(key: string, qty: number, ttlSeconds?: number): Promise<void> {
    assertKey(key);
    assertStockFigure(qty);
    if (ttlSeconds !== undefined && !(Number.isSafeInteger(ttlSeconds) && ttlSeconds >= 0)) {
      throw badInput('ttlSeconds must be a whole number >= 0');
    }
    const ttl = ttlSeconds ?? this.config.ttlSeconds;
    const { stock } = stockKeys(this.config.prefix, key);
    const { redis } = this.config;
    await this.caller.run(() => (ttl > 0 ? redis.set(stock, qty, 'EX', ttl) : redis.set(stock, qty)));
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
 */
export function createStockStore(options: StockStoreOptions): StockStore {
  return new RedisStockStore(resolveStoreOptions(options));
}
