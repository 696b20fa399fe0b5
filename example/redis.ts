/** The example's Redis client: a single Redis or a Cluster, and one log line per change of its connection's state. */
import { Cluster, Redis, type ClusterOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { RedisClient } from '../lib';

/** `127.0.0.1:7000,127.0.0.1:7001`: REDIS_CLUSTER_NODES as ioredis's startup nodes. */
export function parseClusterNodes(list: string): { host: string; port: number }[] {
  return list.split(',').map((entry) => {
    const at = entry.trim().lastIndexOf(':');
    const port = Number(entry.trim().slice(at + 1));
    if (at <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) {
      throw new Error(`REDIS_CLUSTER_NODES must list host:port pairs separated by commas, not ${JSON.stringify(list)}`);
    }
    return { host: entry.trim().slice(0, at), port };
  });
}

/**
 * Cluster client options for a cluster whose masters can fail over: a
 * command for a master that is gone is retried on the refreshed slot map
 * (MOVED, CLUSTERDOWN, TRYAGAIN) rather than failed at once, and the client
 * never stops reconnecting. The stock store's deadline (timeoutMs) still
 * answers 503 to a buyer who would wait too long, and every command goes to
 * a master: a replica may lag behind a deduction.
 */
export const CLUSTER_OPTIONS: ClusterOptions = {
  scaleReads: 'master',
  retryDelayOnFailover: 200,
  retryDelayOnClusterDown: 200,
  retryDelayOnTryAgain: 100,
  slotsRefreshTimeout: 1000,
  clusterRetryStrategy: (times) => Math.min(100 * times, 1000),
  redisOptions: { connectTimeout: 1000 },
};

/** A Cluster client on `nodes` (REDIS_CLUSTER_NODES) with {@link CLUSTER_OPTIONS} under `options`. */
export function connectCluster(nodes: string, options: ClusterOptions = {}): Cluster {
  const redisOptions = { ...CLUSTER_OPTIONS.redisOptions, ...options.redisOptions };
  return new Cluster(parseClusterNodes(nodes), { ...CLUSTER_OPTIONS, ...options, redisOptions });
}

/**
 * The example's Redis client, not connected yet (lazyConnect): the Redis
 * Cluster that REDIS_CLUSTER_NODES names when it is set, else the single
 * Redis at `url`. `where` names it for error messages.
 */
export function createRedisClient(url: string, env: NodeJS.ProcessEnv = process.env): { redis: RedisClient; where: string } {
  const nodes = env.REDIS_CLUSTER_NODES;
  if (nodes) return { redis: connectCluster(nodes, { lazyConnect: true }), where: `REDIS_CLUSTER_NODES=${nodes}` };
  return { redis: new Redis(url, { lazyConnect: true }), where: `REDIS_URL=${url}` };
}

/** What the app's Redis connection is doing, as the log tells it. */
export type RedisState = 'connecting' | 'ready' | 'down' | 'closed';

/**
 * Logs the client's connection state once per change: `ready`, `down` (with
 * the error that took it there), `ready` again once it reconnects, `closed`
 * when it was quit. ioredis emits an `error` for every failed reconnection
 * attempt, and prints "Unhandled error event" with a stack trace for each
 * when nobody listens; this listener takes them all and logs the first of a
 * run only. Returns the current state.
 */
export function logRedisState(redis: RedisClient, logger: Logger, where: string): () => RedisState {
  let state: RedisState = redis.status === 'ready' ? 'ready' : 'connecting';
  const become = (next: RedisState, error?: Error) => {
    if (next === state) return;
    state = next;
    if (next === 'down') logger.warn({ redis: where, state, err: error?.message }, `Redis down: ${error?.message ?? 'connection lost'}`);
    else logger.info({ redis: where, state }, `Redis ${state}`);
  };
  redis.on('ready', () => become('ready'));
  redis.on('error', (error: Error) => become('down', error));
  // A connection lost without an error (the server shut down cleanly) is down all the same.
  redis.on('reconnecting', () => become('down', new Error('connection lost, reconnecting')));
  redis.on('end', () => become('closed'));
  return () => state;
}
