/**
 * The shared Redis at REDIS_URL (default redis://127.0.0.1:6379): tests only
 * ever touch keys under their own random prefix and delete them afterwards.
 * Never FLUSHALL/FLUSHDB/SCRIPT FLUSH/SHUTDOWN/CONFIG SET/DEBUG/CLIENT KILL
 * or PAUSE here: use a private server (./redis-server.ts) for those.
 *
 * When REDIS_CLUSTER_NODES is set (`npm run test:cluster` sets it to the
 * nodes of the private cluster it starts), the same suites run on that
 * Redis Cluster instead: the clients are ioredis `Cluster`s.
 */
import { randomBytes } from 'node:crypto';
import Redis, { type Cluster, type RedisOptions } from 'ioredis';
import { connectTestCluster } from './redis-cluster';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A client of either kind: a single Redis or a Cluster. */
export type AnyRedis = Redis | Cluster;

/**
 * A new client of the shared Redis, or of the cluster REDIS_CLUSTER_NODES
 * names (read at each call: the cluster suite sets it once its cluster is up,
 * after the test files were loaded).
 */
export function connectRedis(options: RedisOptions = {}): AnyRedis {
  const nodes = process.env.REDIS_CLUSTER_NODES;
  if (nodes) return connectTestCluster(nodes, { redisOptions: options });
  return new Redis(REDIS_URL, options);
}

/** A key prefix no other test or process uses: `test:<pid>:<random>:<label>:`. */
export function uniquePrefix(label = 't'): string {
  return `test:${process.pid}:${randomBytes(6).toString('hex')}:${label}:`;
}

/** `prefix` with the glob characters of SCAN MATCH escaped. */
function globLiteral(prefix: string): string {
  return prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/** The servers that hold keys: the client itself, or every master of a Cluster. */
function keyHolders(redis: AnyRedis): Redis[] {
  return 'nodes' in redis ? redis.nodes('master') : [redis];
}

/** Every key that starts with `prefix` (SCAN, never KEYS: the Redis is shared). */
export async function keysWithPrefix(redis: AnyRedis, prefix: string): Promise<string[]> {
  const found: string[] = [];
  for (const node of keyHolders(redis)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${globLiteral(prefix)}*`, 'COUNT', 1000);
      found.push(...keys);
      cursor = next;
    } while (cursor !== '0');
  }
  return [...new Set(found)].sort();
}

/** Deletes every key that starts with `prefix`; returns how many. */
export async function deleteWithPrefix(redis: AnyRedis, prefix: string): Promise<number> {
  if (!prefix) throw new Error('refusing to delete with an empty prefix');
  const keys = await keysWithPrefix(redis, prefix);
  // One key a command: on a Cluster, one DEL may not span slots.
  const deleted = await Promise.all(keys.map((key) => redis.unlink(key)));
  return deleted.reduce((sum, n) => sum + n, 0);
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
  readonly redis: AnyRedis;
  prefix(): string;
  client(options?: RedisOptions): AnyRedis;
} {
  let redis: AnyRedis | undefined;
  const prefixes: string[] = [];
  const clients: AnyRedis[] = [];
  const context = {
    get redis(): AnyRedis {
      if (!redis) throw new Error('useSharedRedis: used outside a test');
      return redis;
    },
    prefix(): string {
      const prefix = uniquePrefix(label);
      prefixes.push(prefix);
      return prefix;
    },
    client(options?: RedisOptions): AnyRedis {
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
