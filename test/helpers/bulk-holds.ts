/**
 * Many real holds at once, for the footprint suites and the bench: the
 * store's own scripts (the commands bindCommands defines on a client), sent
 * in batches that ioredis pipelines on one connection, so that hundreds of
 * thousands of holds take seconds. Every answer is checked: a hold that was
 * not made, or not settled, throws.
 */
import type { Redis } from 'ioredis';
import { bindCommands } from '../../lib/scripts/commands';
import { makeHoldId, nonceOf } from '../../lib/store/hold-id';
import type { HoldKeys } from '../../lib/store/keys';

/** Calls in flight at a time: enough to keep Redis busy, few enough for the client's memory. */
const IN_FLIGHT = 5000;

/** How long the holds last and how long their settled records are kept, ms (the scripts' ARGV); calls in flight. */
export interface HoldTimes {
  holdMs: number;
  retentionMs: number;
  inFlight?: number;
  /** The i-th hold's customer (a digest) and limit (the script's last two ARGV); none when left out. */
  customerOf?: (i: number) => [customer: string, limit: number | ''];
}

/**
 * How long holds (or settled records) must last, ms, so that making them,
 * which took or will take about `makingMs`, is over before the first falls
 * due: three times that and 3 s more, for a machine whose load changes.
 */
export function outlasting(makingMs: number): number {
  return Math.round(3 * makingMs + 3000);
}

/** Runs `send(0)` ... `send(count - 1)`, `inFlight` at a time (pipelined by ioredis on one connection). */
export async function inBatches(count: number, send: (i: number) => Promise<void>, inFlight = IN_FLIGHT): Promise<void> {
  for (let from = 0; from < count; from += inFlight) {
    const batch: Promise<void>[] = [];
    for (let i = from; i < Math.min(count, from + inFlight); i++) batch.push(send(i));
    await Promise.all(batch);
  }
}

/** A new nonce as the store makes them (the field of a hold in Redis). */
export const newNonce = (key: string): string => nonceOf(makeHoldId(key));

/**
 * Makes `count` holds of one unit each on the item `key` (its `keys`) with
 * reserveHold-6, for no customer unless `customerOf` names one; returns
 * their nonces and the latest expiry (ms, Redis clock).
 */
export async function makeHolds(
  redis: Redis,
  key: string,
  keys: HoldKeys,
  count: number,
  { holdMs, retentionMs, inFlight, customerOf = () => ['', ''] }: HoldTimes,
): Promise<{ nonces: string[]; lastExpiry: number }> {
  const commands = bindCommands(redis);
  const nonces = Array.from({ length: count }, () => newNonce(key));
  let lastExpiry = 0;
  await inBatches(count, async (i) => {
    const reply = await commands.reserveHold(...keys, 1, nonces[i] as string, holdMs, retentionMs, ...customerOf(i));
    if (typeof reply === 'string' || reply[0] < 0) throw new Error(`hold ${i} of ${key} was not made: ${JSON.stringify(reply)}`);
    lastExpiry = Math.max(lastExpiry, reply[2] ?? 0);
  }, inFlight);
  return { nonces, lastExpiry };
}

/** Commits or releases every hold of `nonces` with settleHold-6; each must settle now. */
export async function settleHolds(
  redis: Redis,
  keys: HoldKeys,
  nonces: readonly string[],
  action: 'commit' | 'release',
  retentionMs: number,
  inFlight?: number,
): Promise<void> {
  const commands = bindCommands(redis);
  await inBatches(nonces.length, async (i) => {
    const [state, changed] = await commands.settleHold(...keys, nonces[i] as string, action, retentionMs);
    if (changed !== 1) throw new Error(`hold ${i} was not settled: ${state}`);
  }, inFlight);
}

/**
 * Makes `count` carts with reserveCart-N, one unit of each item a cart, no
 * customer: `count` holds on each item. Returns the latest expiry (ms,
 * Redis clock).
 */
export async function makeCartHolds(
  redis: Redis,
  items: readonly { key: string; keys: HoldKeys }[],
  count: number,
  { holdMs, retentionMs }: HoldTimes,
): Promise<{ lastExpiry: number }> {
  const commands = bindCommands(redis);
  const flatKeys = items.flatMap(({ keys }) => keys);
  let lastExpiry = 0;
  await inBatches(count, async (i) => {
    const lines = items.flatMap(({ key }) => [1, newNonce(key), '']);
    const [status, list] = await commands.reserveCart(flatKeys.length, ...flatKeys, holdMs, retentionMs, '', ...lines);
    if (status !== 'reserved') throw new Error(`cart ${i} was not reserved: ${status} ${JSON.stringify(list)}`);
    lastExpiry = Math.max(lastExpiry, list[2] as number);
  });
  return { lastExpiry };
}
