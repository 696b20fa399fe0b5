import { createHash, randomBytes } from 'node:crypto';
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
      ? randomBytes(16)
      : createHash('sha256').update(key).update('\n').update(seed).digest().subarray(0, 16);
  return holdIdOf(key, nonce.toString('base64url'));
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
