/**
 * Bounded work (issue 13): whatever piles up on one item, no script runs
 * long, the other clients of the Redis are served throughout, the next
 * reservation is granted within its deadline, and the figures come out
 * exact once the pile is gone. Three piles, each made of real holds by the
 * store's own scripts (test/helpers/bulk-holds.ts) and left to fall due by
 * Redis's clock:
 * - 200,000 holds of one item;
 * - 200,000 settled records of one item whose retention ends;
 * - a cart of four items, each with 50,000 due holds.
 * On a private redis-server whose SLOWLOG keeps every command slower than
 * 20 ms; meanwhile another client times a PING every millisecond
 * (test/helpers/ping-poller.ts; both run at a raised priority where the
 * tests may, so that the shared machine's other load does not stretch what
 * they time). The first test shows that both checks catch a script that
 * runs long.
 *
 * No priority inside this machine stops its host from taking a CPU away for
 * a few ms, and once a CI run saw a batch that takes 3 to 9 ms here run
 * 24 ms. So when only the times fail, a test tries once more on a fresh pile
 * of its kind, and fails if that is slow too: a script that does more than
 * a batch a call is slow on every pile, a stall of the host rarely comes
 * twice. Every other check counts on the first try.
 */
import { expect } from 'chai';
import Redis from 'ioredis';
import { createStockStore, stockKeys, type StockStore } from '../lib';
import { makeCartHolds, makeHolds, outlasting, settleHolds } from './helpers/bulk-holds';
import { EventLog } from './helpers/events';
import { held, sleepPast } from './helpers/holds';
import { raisePriority, type PingReport } from './helpers/ping-poller';
import { RedisServer } from './helpers/redis-server';
import { SLOWLOG_READ, watchRedis } from './helpers/watch-redis';

/** SLOWLOG keeps the commands that run this long or longer, µs. */
const SLOW_US = 20_000;
/** The longest a PING may wait, ms. */
const PING_MS = 50;
const PILE = 200_000;
const CART_PILE = 50_000;
const CART_ITEMS = ['cart-a', 'cart-b', 'cart-c', 'cart-d'];
/** Units beyond those the pile holds: a reservation of one can be granted at once. */
const EXTRA = 10;
const PREFIX = 'fp:';

/** A script that keeps Redis busy for ARGV[1] µs: what the checks must catch. */
const BUSY_SCRIPT = `
local function us() local t = redis.call('TIME') return t[1] * 1000000 + t[2] end
local start = us()
while us() - start < tonumber(ARGV[1]) do end
return 1`;

describe('footprint: bounded reaping and purging (private redis-server)', function () {
  this.timeout(300_000);
  let server: RedisServer;
  let admin: Redis;
  let builder: Redis;
  let shop: Redis;
  const log = new EventLog();
  let store: StockStore;
  /** How long making a pile of PILE holds takes on this machine now, ms (timed in before()). */
  let makingMs = 0;
  /** When the last hold (or settled record) of each pile falls due, ms, Redis clock; by the pile's name. */
  const dueAt = new Map<string, number>();

  const keysOf = (key: string) => stockKeys(PREFIX, key).holds;
  const cartItems = (pile: string) => CART_ITEMS.map((item) => `${pile}-${item}`);
  const redisNow = async () => {
    const [seconds, micros] = await admin.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  };

  /** Throws unless the pile is whole: no hold or record of it went before it was all made. */
  async function expectWhole(what: string, length: Promise<number>, expected: number, lastedMs: number): Promise<void> {
    const found = await length;
    if (found !== expected) {
      throw new Error(`${what}: ${found} of ${expected} left once made; making it took longer than the ${lastedMs} ms they last`);
    }
  }

  /** Runs `make`; how long it took, ms. */
  async function timed(make: () => Promise<unknown>): Promise<number> {
    const started = Date.now();
    await make();
    return Date.now() - started;
  }

  // The piles, each under its own name: before() makes the first of each kind;
  // a test that was slow on its first makes another (see the header).
  // A pile's holds must all be made before the first falls due (a reservation
  // that finds a hold of its item due reaps a batch): they last
  // outlasting(makingMs), and each pile is checked whole once made.

  /** PILE holds of the item `pile` (and EXTRA units more in its figure). */
  async function makePileOfHolds(pile: string): Promise<void> {
    await store.setStock(pile, PILE + EXTRA);
    const lasts = outlasting(makingMs);
    dueAt.set(pile, (await makeHolds(builder, pile, keysOf(pile), PILE, { holdMs: lasts, retentionMs: lasts })).lastExpiry);
    await expectWhole(`the pile of holds ${pile}`, admin.llen(keysOf(pile)[2]), PILE, lasts);
  }

  /** CART_PILE carts of one unit of each of the items cartItems(pile). */
  async function makePileOfCarts(pile: string): Promise<void> {
    for (const key of cartItems(pile)) await store.setStock(key, CART_PILE + EXTRA);
    const items = cartItems(pile).map((key) => ({ key, keys: keysOf(key) }));
    const lasts = outlasting(makingMs);
    dueAt.set(pile, (await makeCartHolds(builder, items, CART_PILE, { holdMs: lasts, retentionMs: lasts })).lastExpiry);
    for (const key of cartItems(pile)) await expectWhole(`the pile of ${key}`, admin.llen(keysOf(key)[2]), CART_PILE, lasts);
  }

  /** PILE holds of the item `pile`, held for ten minutes and committed: their records, not their holds, fall due. */
  async function makePileOfRecords(pile: string): Promise<void> {
    await store.setStock(pile, PILE + EXTRA);
    let nonces: string[] = [];
    const heldTookMs = await timed(async () => {
      ({ nonces } = await makeHolds(builder, pile, keysOf(pile), PILE, { holdMs: 600_000, retentionMs: 600_000 }));
    });
    const lasts = outlasting(heldTookMs);
    await settleHolds(builder, keysOf(pile), nonces, 'commit', lasts);
    dueAt.set(pile, (await redisNow()) + lasts);
    await expectWhole(`the pile of settled records ${pile}`, admin.llen(keysOf(pile)[4]), PILE, lasts);
  }

  before(async function () {
    this.timeout(600_000);
    server = await RedisServer.start({ args: ['--slowlog-log-slower-than', String(SLOW_US), '--slowlog-max-len', String(SLOWLOG_READ)] });
    raisePriority(server.pid);
    admin = new Redis(server.url);
    builder = new Redis(server.url);
    shop = new Redis(server.url);
    store = createStockStore({ redis: shop, prefix: PREFIX, onEvent: log.onEvent });
    // How long a pile takes to make on this machine now: ten times a tenth of one, timed.
    await store.setStock('warm-up', PILE);
    makingMs = 10 * (await timed(() => makeHolds(builder, 'warm-up', keysOf('warm-up'), PILE / 10, { holdMs: 600_000, retentionMs: 1000 })));
    await makePileOfHolds('pile');
    await makePileOfCarts('cart');
    await makePileOfRecords('settled');
  });

  after(async () => {
    for (const client of [admin, builder, shop]) client?.disconnect();
    await server?.dispose();
  });

  /** `work` watched (test/helpers/watch-redis.ts): SLOWLOG keeps only the script calls that ran SLOW_US or longer. */
  async function watched<T>(work: () => Promise<T>): Promise<{ result: T; slowScripts: string[]; ping: PingReport }> {
    const { result, scripts, ping } = await watchRedis(admin, server.port, work, PING_MS);
    return { result, slowScripts: scripts.map(({ command, ms }) => `${command.replace(/\s+/g, ' ')} ran ${ms} ms`), ping };
  }

  /** Script calls (EVAL and EVALSHA: ioredis sends a script's first call on a connection as EVAL) since the last RESETSTAT. */
  async function scriptCalls(): Promise<number> {
    const stats = await admin.info('commandstats');
    return [...stats.matchAll(/^cmdstat_(?:eval|evalsha):calls=(\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
  }

  /** What a watched run did wrong in time: the slow script calls, too few PINGs answered, a PING that waited PING_MS. */
  function lateness({ slowScripts, ping }: { slowScripts: string[]; ping: PingReport }): string[] {
    const late = [...slowScripts];
    if (ping.count <= 10) late.push(`only ${ping.count} PINGs answered meanwhile`);
    if (ping.maxMs >= PING_MS) late.push(`a PING waited ${ping.maxMs.toFixed(1)} ms (slow ones: ${ping.slow.map((ms) => ms.toFixed(1)).join(', ')})`);
    return late;
  }

  /**
   * Runs `scenario` on the pile `name` (due by now), which checks all but the
   * times; if they fail, makes the pile again with `make` under a new name
   * and runs it there, where they must hold (see the header).
   */
  async function onTime(
    name: string,
    make: (pile: string) => Promise<void>,
    scenario: (pile: string) => Promise<{ slowScripts: string[]; ping: PingReport }>,
  ): Promise<void> {
    await sleepPast(dueAt.get(name) as number);
    const late = lateness(await scenario(name));
    if (late.length === 0) return;
    console.warn(`      slow on the pile ${name} (${late.join('; ')}): once more on a fresh pile`);
    const again = `${name}-again`;
    await make(again);
    await sleepPast(dueAt.get(again) as number);
    expect(lateness(await scenario(again)), `slow on the piles ${name} and ${again}`).to.deep.equal([]);
  }

  it('the checks catch a script that runs long: a 100 ms script is in SLOWLOG and holds a PING past 50 ms', async () => {
    const { slowScripts, ping } = await watched(() => admin.eval(BUSY_SCRIPT, 0, 100_000));
    expect(slowScripts).to.have.length(1);
    expect(ping.maxMs).to.be.above(PING_MS);
  });

  it('200,000 holds of one item fall due together: no script runs 20 ms, PINGs are answered within 50 ms, the next reservations are granted, the stock comes out exact', async () => {
    await onTime('pile', makePileOfHolds, async (pile) => {
      const expiredBefore = expiredHolds(log, pile);
      const run = await watched(async () => {
        // The figure (EXTRA) can grant one unit: granted by one call, reaping waits for no one.
        const first = held(await store.reserve(pile, 1));
        const callsOfFirst = await scriptCalls();
        // This one needs most of the pile's units back: the store calls again while the script answers "call again".
        const large = held(await store.reserve(pile, 150_000));
        return { first, callsOfFirst, large, stock: await store.getStock(pile) };
      });
      const { result } = run;
      expect(result.callsOfFirst, 'script calls of the first reservation').to.equal(1);
      expect(result.stock).to.equal(PILE + EXTRA - 1 - 150_000);
      const holds = await store.getHolds(pile, { limit: 10 });
      expect(holds).to.deep.include({ count: 2, units: 150_001 });
      expect(holds.holds.map((h) => h.holdId).sort()).to.deep.equal([result.first.holdId, result.large.holdId].sort());
      // Every hold of the pile expired once, and nothing of the pile is left to reap.
      expect(expiredHolds(log, pile) - expiredBefore).to.equal(PILE);
      expect(await admin.llen(keysOf(pile)[2])).to.equal(2);
      expect(await admin.zcard(keysOf(pile)[3])).to.equal(0);
      return run;
    });
  });

  it('a cart of four items, each with 50,000 due holds: no script runs 20 ms, PINGs are answered within 50 ms, the cart is granted, every stock comes out exact', async () => {
    await onTime('cart', makePileOfCarts, async (pile) => {
      const items = cartItems(pile);
      const run = await watched(async () => {
        // No line can be granted from its figure (EXTRA): each needs 30,000 of its pile's units back first.
        const cart = await store.reserveCart(items.map((key) => ({ key, qty: 30_000 })));
        return { cart, stocks: await Promise.all(items.map((key) => store.getStock(key))) };
      });
      expect(run.result.cart.status).to.equal('reserved');
      expect(run.result.stocks).to.deep.equal(items.map(() => CART_PILE + EXTRA - 30_000));
      for (const key of items) {
        expect(await store.getHolds(key, { limit: 0 }), key).to.deep.include({ count: 1, units: 30_000 });
        expect(await admin.llen(keysOf(key)[2]), key).to.equal(1);
      }
      return run;
    });
  });

  it('200,000 settled records whose retention ends together: no script runs 20 ms, PINGs are answered within 50 ms, the next reservation is granted, the records go a batch a call', async () => {
    await onTime('settled', makePileOfRecords, async (pile) => {
      const [, holdsKey, , , purgeKey] = keysOf(pile);
      const run = await watched(async () => {
        const first = held(await store.reserve(pile, 1));
        const callsOfFirst = await scriptCalls();
        // Reads of the figure forget a batch each, as any traffic on the item does.
        let reads = 0;
        while ((await admin.llen(purgeKey)) > 0 && reads < PILE / 10) {
          await store.getStock(pile);
          reads++;
        }
        return { first, callsOfFirst, reads };
      });
      expect(run.result.callsOfFirst, 'script calls of the first reservation').to.equal(1);
      expect(await admin.llen(purgeKey), `records left to forget after ${run.result.reads} reads`).to.equal(0);
      // The counters and the one open hold: every settled record is gone.
      expect(await admin.hlen(holdsKey)).to.equal(2);
      expect(await store.getStock(pile)).to.equal(EXTRA - 1);
      return run;
    });
  });
});

/** Holds of `key` the store reported expired so far. */
function expiredHolds(log: EventLog, key: string): number {
  return log.of('expired').filter((e) => e.key === key).reduce((sum, e) => sum + e.holds, 0);
}
