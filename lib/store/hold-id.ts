import { createHash, randomFillSync } from 'node:crypto';
import { badInput } from '../errors';
import { assertKey } from '../validation/input';

/**
 * A hold id names its item, so that any process can commit, release or
 * extend a hold by its id alone: `<nonce>.<item key, base64url>`. The nonce
 * is random, or derived from a seed (an idempotency key) so that a retried
 * request reserves under the same id.
 */
const NONCE = /^[A-Za-z0-9_-]{22}$/;

export function makeHoldId(key: string, seed?: string): string {
  const nonce =
    seed === undefined
      ? randomNonce()
      : createHash('sha256').update(key).update('\n').update(seed).digest().subarray(0, 16);
  return holdIdOf(key, nonce.toString('base64url'));
}

/**
 * 16 random bytes from a pool filled 4 KiB at a time: one call into the
 * CSPRNG per 256 holds instead of one per hold, which the profile of a
 * reservation put at a twentieth of its CPU (crypto.randomUUID does the
 * same). The bytes are read (into the nonce's text) before the pool is
 * filled again.
 */
const randomPool = Buffer.alloc(4096);
let poolUsed = randomPool.length;

function randomNonce(): Buffer {
  if (poolUsed === randomPool.length) {
    randomFillSync(randomPool);
    poolUsed = 0;
  }
  poolUsed += 16;
  return randomPool.subarray(poolUsed - 16, poolUsed);
}

/** The id of the hold stored under `nonce` in `key`'s holds. */
export function holdIdOf(key: string, nonce: string): string {
  return `${nonce}.${Buffer.from(key).toString('base64url')}`;
}

/** The nonce of an id this module made (no checks: for the hot path). */
export function nonceOf(holdId: string): string {
  return holdId.slice(0, holdId.indexOf('.'));
}

/** The item key and the nonce (the field in Redis) of a hold id; a 400 for anything else. */
export function parseHoldId(holdId: unknown): { key: string; nonce: string } {
  if (typeof holdId === 'string') {
    const dot = holdId.indexOf('.');
    const nonce = holdId.slice(0, dot);
    const encoded = holdId.slice(dot + 1);
    const key = Buffer.from(encoded, 'base64url').toString();
    if (dot > 0 && NONCE.test(nonce) && Buffer.from(key).toString('base64url') === encoded) {
      assertKey(key);
      return { key, nonce };
    }
  }
  throw badInput('Not a hold id');
}
