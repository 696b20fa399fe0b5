import calculateSlot from 'cluster-key-slot';
import type { Cluster, Redis } from 'ioredis';
import type { RedisClient } from '../types';

/** Whether the client is a Redis Cluster (ioredis `Cluster`). */
export function isCluster(redis: RedisClient): redis is Cluster {
  return redis.isCluster;
}

/** Whether one script call can take all these keys: a single Redis, or keys in one Cluster slot. */
export function fitOneCall(redis: RedisClient, keys: readonly string[]): boolean {
  if (!isCluster(redis)) return true;
  const slot = calculateSlot(keys[0] as string);
  return keys.every((key) => calculateSlot(key) === slot);
}

/**
 * The node that writes `key`: the client itself, or on a Cluster the master
 * of the key's slot as the client last learnt it (null while it knows none).
 */
export function masterOf(redis: RedisClient, key: string): Redis | null {
  if (!isCluster(redis)) return redis;
  const nodeKey = redis.slots[calculateSlot(key)]?.[0];
  if (nodeKey === undefined) return null;
  return redis.nodes('master').find((node) => `${node.options.host}:${node.options.port}` === nodeKey) ?? null;
}
