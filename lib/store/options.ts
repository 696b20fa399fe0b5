import { ConfigError } from '../errors';
import type { RedisClient, StockEventHandler, StockStoreOptions } from '../types';
import { safeEmitter } from '../util/events';
import { assertWholeNumber } from '../validation/input';
import { functionOption, intOption } from '../validation/options';

/** {@link StockStoreOptions} with every default filled in, checked once. */
export interface StoreConfig {
  redis: RedisClient;
  prefix: string;
  ttlSeconds: number;
  timeoutMs: number;
  loaderTimeoutMs: number;
  lockTtlMs: number;
  initTimeoutMs: number;
  holdMs: number;
  retentionMs: number;
  waitReplicas: number;
  waitTimeoutMs: number;
  soldOutCacheMs: number;
  emit: StockEventHandler | undefined;
}

const HOUR = 3600;
const DAY_MS = 86_400_000;
/** The longest figure TTL: ten years (a longer one is as good as none, 0). */
export const MAX_TTL_SECONDS = 10 * 365 * 86_400;
/** The longest hold, and the longest retention: a year. */
export const MAX_HOLD_SECONDS = 365 * 86_400;
/**
 * The default `soldOutCacheMs`. In the flash-sale benchmark a process answers
 * a few thousand requests a second, and with 100 ms (its entry renewed after
 * 25 ms by one request) the sold-out item's requests hardly reach Redis;
 * longer saves almost nothing more and only lengthens the time a unit given
 * back in another process goes unseen.
 */
export const SOLD_OUT_CACHE_MS = 100;
/** The longest `soldOutCacheMs`: a buyer is never refused for stale units longer. */
const MAX_SOLD_OUT_CACHE_MS = 250;

export function resolveStoreOptions(options: StockStoreOptions): StoreConfig {
  const redis = (options as Partial<StockStoreOptions> | undefined)?.redis;
  if (!redis || typeof redis.defineCommand !== 'function' || typeof redis.status !== 'string') {
    throw new ConfigError('ERR_RESERVE_STOCK_STORE', 'option "redis" must be an ioredis client (Redis or Cluster)');
  }
  const prefix = options.prefix ?? 'stock:';
  if (typeof prefix !== 'string') {
    throw new ConfigError('ERR_RESERVE_STOCK_OPTION', 'option "prefix" must be a string');
  }
  const loaderTimeoutMs = intOption(options, 'loaderTimeoutMs', 2000, 1, DAY_MS);
  const lockTtlMs = intOption(options, 'lockTtlMs', Math.max(5000, loaderTimeoutMs + 1000), 1, DAY_MS);
  if (lockTtlMs <= loaderTimeoutMs) {
    throw new ConfigError(
      'ERR_RESERVE_STOCK_OPTION',
      `option "lockTtlMs" (${lockTtlMs}) must exceed "loaderTimeoutMs" (${loaderTimeoutMs}), or the lock could expire while its holder still loads`,
    );
  }
  const timeoutMs = intOption(options, 'timeoutMs', 2000, 1, DAY_MS);
  const waitTimeoutMs = intOption(options, 'waitTimeoutMs', 100, 1, DAY_MS);
  if (waitTimeoutMs >= timeoutMs) {
    throw new ConfigError(
      'ERR_RESERVE_STOCK_OPTION',
      `option "waitTimeoutMs" (${waitTimeoutMs}) must be below "timeoutMs" (${timeoutMs}): the WAIT is one command under that deadline`,
    );
  }
  return {
    redis,
    prefix,
    ttlSeconds: intOption(options, 'ttlSeconds', HOUR, 0, MAX_TTL_SECONDS),
    timeoutMs,
    loaderTimeoutMs,
    lockTtlMs,
    initTimeoutMs: intOption(options, 'initTimeoutMs', lockTtlMs + 1000, 1, DAY_MS),
    holdMs: intOption(options, 'holdSeconds', 900, 1, MAX_HOLD_SECONDS) * 1000,
    retentionMs: intOption(options, 'retentionSeconds', 86_400, 1, MAX_HOLD_SECONDS) * 1000,
    waitReplicas: intOption(options, 'waitReplicas', 0, 0, 100),
    waitTimeoutMs,
    soldOutCacheMs: intOption(options, 'soldOutCacheMs', SOLD_OUT_CACHE_MS, 0, MAX_SOLD_OUT_CACHE_MS),
    emit: safeEmitter(functionOption<StockEventHandler>(options, 'onEvent')),
  };
}

/** A call's `holdSeconds` in ms (checked: a 400 for anything else), or the store's. */
export function holdMsOf(config: StoreConfig, holdSeconds: number | undefined): number {
  if (holdSeconds === undefined) return config.holdMs;
  assertWholeNumber(holdSeconds, 'holdSeconds', 1, MAX_HOLD_SECONDS);
  return holdSeconds * 1000;
}
