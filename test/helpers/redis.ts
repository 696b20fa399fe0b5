/**
 * The shared Redis at REDIS_URL (default redis://127.0.0.1:6379): tests only
 * ever touch keys under their own random prefix and delete them afterwards.
 * Never FLUSHALL/FLUSHDB/SCRIPT FLUSH/SHUTDOWN/CONFIG SET/DEBUG/CLIENT KILL
 * or PAUSE here: use a private server (./redis-server.ts) for those.
 */
import { randomBytes } from 'node:crypto';
import Redis, { type RedisOptions } from 'ioredis';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A new client of the shared Redis (or of `url`). */
export function connectRedis(options: RedisOptions = {}, url: string = REDIS_URL): Redis {
  return new Redis(url, options);
}

/** A key prefix no other test or process uses: `test:<pid>:<random>:<label>:`. */
export function uniquePrefix(label = 't'): string {
  return `test:${process.pid}:${randomBytes(6).toString('hex')}:${label}:`;
}

/** `prefix` with the glob characters of SCAN MATCH escaped. */
function globLiteral(prefix: string): string {
  return prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/** Every key that starts with `prefix`. */
export async function keysWithPrefix(redis: Redis, prefix: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${globLiteral(prefix)}*`, 'COUNT', 1000);
    found.push(...keys);
    cursor = next;
  } while (cursor !== '0');
  return [...new Set(found)].sort();
}

/** Deletes every key that starts with `prefix`; returns how many. */
export async function deleteWithPrefix(redis: Redis, prefix: string): Promise<number> {
  if (!prefix) throw new Error('refusing to delete with an empty prefix');
  const keys = await keysWithPrefix(redis, prefix);
  let deleted = 0;
  for (let i = 0; i < keys.length; i += 500) deleted += await redis.del(...keys.slice(i, i + 500));
  return deleted;
}

/**
 * Mocha wiring for a suite on the shared Redis: one client for the suite,
 * `prefix()` hands out fresh prefixes, and every key under them is deleted
 * after each test; extra clients made with `client()` are closed at the end.
 *
 * @example
 * const shared = useSharedRedis();
 * it('...', async () => { const prefix = shared.prefix(); ... shared.redis ... });
 */
export function useSharedRedis(label = 'core'): {
  readonly redis: Redis;
  prefix(): string;
  client(options?: RedisOptions): Redis;
} {
  let redis: Redis | undefined;
  const prefixes: string[] = [];
  const clients: Redis[] = [];
  const context = {
    get redis(): Redis {
      if (!redis) throw new Error('useSharedRedis: used outside a test');
      return redis;
    },
    prefix(): string {
      const prefix = uniquePrefix(label);
      prefixes.push(prefix);
      return prefix;
    },
    client(options?: RedisOptions): Redis {
      const extra = connectRedis(options);
      clients.push(extra);
      return extra;
    },
  };
  before(async () => {
    redis = connectRedis();
    await redis.ping();
  });
  afterEach(async () => {
    const used = prefixes.splice(0);
    for (const prefix of used) await deleteWithPrefix(context.redis, prefix);
  });
  after(async () => {
    for (const extra of clients.splice(0)) extra.disconnect();
    await redis?.quit();
    redis = undefined;
  });
  return context;
}
