/**
 * Checks for the hold part of a reservation's answer: the id names its item
 * and the expiry lies `holdSeconds` ahead. The shared Redis runs on this
 * machine, so its clock (which sets expiries) and Date.now() agree to well
 * within the margins used here.
 */
import { expect } from 'chai';
import { stockKeys, type ReserveResult } from '../../lib';
import { sleep } from './wait';

/** The default `holdSeconds` of a store. */
export const DEFAULT_HOLD_SECONDS = 900;

/** How a hold id for `key` looks: `<22-char base64url nonce>.<key, base64url>`. */
export function holdIdPattern(key: string): RegExp {
  return new RegExp(`^[A-Za-z0-9_-]{22}\\.${Buffer.from(key).toString('base64url')}$`);
}

/** Asserts that `holdId` is a hold id of `key`. */
export function expectHoldId(holdId: unknown, key: string): void {
  expect(holdId, 'hold id').to.be.a('string').and.match(holdIdPattern(key));
}

/**
 * Asserts that an expiry lies `holdSeconds` after a moment within the last
 * `windowMs` (the call's own duration).
 */
export function expectExpiry(expiresAt: unknown, holdSeconds = DEFAULT_HOLD_SECONDS, windowMs = 10_000): void {
  const now = Date.now();
  expect(expiresAt, 'expiresAt').to.be.a('number').and.within(now + holdSeconds * 1000 - windowMs, now + holdSeconds * 1000 + 1000);
}

/**
 * A reservation's answer without its hold: asserts that a reserved or
 * unlimited answer carries a well-formed hold id of `key` and an expiry
 * `holdSeconds` ahead, then returns the rest for an exact comparison.
 */
export function withoutHold(result: ReserveResult, key: string, holdSeconds = DEFAULT_HOLD_SECONDS): Record<string, unknown> {
  if (result.status === 'insufficient') {
    expect(result).to.have.all.keys('status', 'available');
    return { ...result };
  }
  if (result.status === 'limit') {
    expect(result).to.have.all.keys('status', 'limit', 'bought');
    return { ...result };
  }
  const { holdId, expiresAt, ...rest } = result;
  expectHoldId(holdId, key);
  expectExpiry(expiresAt, holdSeconds);
  return rest;
}

/** The keys a figure written by setStock or a load consists of: the figure and the holds hash (its epoch counter), sorted. */
export function figureKeys(prefix: string, key: string): string[] {
  const [figure, holds] = stockKeys(prefix, key).holds;
  return [figure, holds].sort();
}

/** A reservation that reserved: the result narrowed, or an error naming what came instead. */
export type Held = Extract<ReserveResult, { status: 'reserved' }>;

export function held(result: ReserveResult): Held {
  if (result.status !== 'reserved') throw new Error(`not reserved: ${JSON.stringify(result)}`);
  return result;
}

/** Sleeps until `marginMs` after the instant `ms` (ms since the epoch): past a hold's expiry. */
export async function sleepPast(ms: number, marginMs = 150): Promise<void> {
  const wait = ms - Date.now() + marginMs;
  if (wait > 0) await sleep(wait);
}
