/**
 * An item's per-customer counts as Redis keeps them: the fields of its holds
 * hash named by a customer's digest (see lua/includes/counters.lua), beside
 * the holds' records (named by their nonces) and the counters ('#').
 */
import type { Cluster, Redis } from 'ioredis';
import { customerDigest } from '../../lib';

const DIGEST_LENGTH = customerDigest('any').length;

/** Every customer's count of the item whose holds hash is `holdsKey`: digest -> units. */
export async function customerCounts(redis: Redis | Cluster, holdsKey: string): Promise<Record<string, number>> {
  const fields = await redis.hgetall(holdsKey);
  return Object.fromEntries(Object.entries(fields).filter(([field]) => field.length === DIGEST_LENGTH).map(([digest, units]) => [digest, Number(units)]));
}
