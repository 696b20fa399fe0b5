import { InitLock } from '../lock/init-lock';
import { bindCommands, type StockCommands } from '../scripts/commands';
import type { StockOperation } from '../types';
import { toError } from '../util/events';
import { StockKeysMemo } from './keys';
import type { StoreConfig } from './options';
import { RedisCaller } from './redis-caller';
import { ReplicaWait } from './replica-wait';
import { SoldOutCache } from './sold-out-cache';

/** What the store's parts share: its settings, its scripts on the shop's client, and their helpers. */
export interface StoreContext {
  readonly config: StoreConfig;
  readonly commands: StockCommands;
  readonly caller: RedisCaller;
  readonly lock: InitLock;
  readonly keys: StockKeysMemo;
  /** Only with `waitReplicas`, so that without it the hot path spends nothing on replicas. */
  readonly replicas: ReplicaWait | undefined;
  /** Sold-out answers remembered (`soldOutCacheMs`). */
  readonly soldOut: SoldOutCache;
  /** Gives a hold back without waiting or failing (a reservation its caller was told had failed). */
  readonly releaseLate: (holdId: string) => void;
}

export function createContext(config: StoreConfig, releaseLate: (holdId: string) => void): StoreContext {
  const commands = bindCommands(config.redis);
  const caller = new RedisCaller(config.redis, config.timeoutMs);
  return {
    config,
    commands,
    caller,
    lock: new InitLock(config.redis, commands, caller, config.lockTtlMs),
    keys: new StockKeysMemo(config.prefix),
    replicas: config.waitReplicas > 0 ? new ReplicaWait(config, caller) : undefined,
    soldOut: new SoldOutCache(config.soldOutCacheMs),
    releaseLate,
  };
}

/** Reports holds a script expired while answering for `key`: their units are back, so a remembered sold-out answer goes. */
export function reportExpired(ctx: StoreContext, key: string, holds: number): void {
  if (holds === 0) return;
  ctx.soldOut.forget(key);
  ctx.config.emit?.({ type: 'expired', key, holds });
}

/** Reports a 503 (Redis or the loader unavailable) as an `error` event; other errors are the caller's. */
export function reportUnavailable(ctx: StoreContext, operation: StockOperation, key: string, error: unknown): void {
  if ((error as { status?: number }).status === 503) {
    ctx.config.emit?.({ type: 'error', operation, key, error: toError(error) });
  }
}
