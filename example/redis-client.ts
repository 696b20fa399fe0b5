import { Cluster, Redis, type ClusterOptions } from 'ioredis';
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
