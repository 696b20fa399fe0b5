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
  this.timeout(120_000);
  let server: RedisServer;
  let admin: Redis;
  let builder: Redis;
  let shop: Redis;
  const log = new EventLog();
  let store: StockStore;
  /** When the last hold (or settled record) of each pile falls due, ms, Redis clock. */
  const dueAt = { pile: 0, cart: 0, settled: 0 };

  const keysOf = (key: string) => stockKeys(PREFIX, key).holds;
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

  before(async function () {
    this.timeout(600_000);
    server = await RedisServer.start({ args: ['--slowlog-log-slower-than', String(SLOW_US), '--slowlog-max-len', String(SLOWLOG_READ)] });
    raisePriority(server.pid);
    admin = new Redis(server.url);
    builder = new Redis(server.url);
    shop = new Redis(server.url);
    store = createStockStore({ redis: shop, prefix: PREFIX, onEvent: log.onEvent });
    // A pile's holds must all be made before the first falls due (a reservation
    // that finds a hold of its item due reaps a batch): how long one takes to
    // make on this machine now, from a tenth of one, timed. Checked after each.
    await store.setStock('warm-up', PILE);
    const tenthMs = await timed(() => makeHolds(builder, 'warm-up', keysOf('warm-up'), PILE / 10, { holdMs: 600_000, retentionMs: 1000 }));

    await store.setStock('pile', PILE + EXTRA);
    let lasts = outlasting(10 * tenthMs);
    const pileTookMs = await timed(async () => {
      dueAt.pile = (await makeHolds(builder, 'pile', keysOf('pile'), PILE, { holdMs: lasts, retentionMs: lasts })).lastExpiry;
    });
    await expectWhole('the pile of holds', admin.llen(keysOf('pile')[2]), PILE, lasts);

    for (const key of CART_ITEMS) await store.setStock(key, CART_PILE + EXTRA);
    const items = CART_ITEMS.map((key) => ({ key, keys: keysOf(key) }));
    lasts = outlasting(pileTookMs);
    dueAt.cart = (await makeCartHolds(builder, items, CART_PILE, { holdMs: lasts, retentionMs: lasts })).lastExpiry;
    for (const key of CART_ITEMS) await expectWhole(`the pile of ${key}`, admin.llen(keysOf(key)[2]), CART_PILE, lasts);

    // Held for ten minutes and committed: their records, not their holds, fall due.
    await store.setStock('settled', PILE + EXTRA);
    let nonces: string[] = [];
    const heldTookMs = await timed(async () => {
      ({ nonces } = await makeHolds(builder, 'settled', keysOf('settled'), PILE, { holdMs: 600_000, retentionMs: 600_000 }));
    });
    lasts = outlasting(heldTookMs);
    await settleHolds(builder, keysOf('settled'), nonces, 'commit', lasts);
    dueAt.settled = (await redisNow()) + lasts;
    await expectWhole('the pile of settled records', admin.llen(keysOf('settled')[4]), PILE, lasts);
  });

  after(async () => {
    for (const client of [admin, builder, shop]) client?.disconnect();
    await server?.dispose();
  });

  /** `work` watched (test/helpers/watch-redis.ts): SLOWLOG keeps only the script calls that ran SLOW_US or longer. */
  async function watched<T>(work: () => Promise<T>): Promise<{ result: T; slowScripts: string[]; ping: PingReport }> {
    const { result, scripts, ping } = await watchRedis(admin, server.port, work, PING_MS);
    return { result, slowScripts: scripts.map(({ command, ms }) => `${command} ran ${ms} ms`), ping };
  }

  /** Script calls (EVAL and EVALSHA: ioredis sends a script's first call on a connection as EVAL) since the last RESETSTAT. */
  async function scriptCalls(): Promise<number> {
    const stats = await admin.info('commandstats');
    return [...stats.matchAll(/^cmdstat_(?:eval|evalsha):calls=(\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
  }

  function expectServed(ping: PingReport): void {
    expect(ping.count, 'PINGs answered meanwhile').to.be.above(10);
    expect(ping.maxMs, `the longest PING (slow ones: ${ping.slow.map((ms) => ms.toFixed(1)).join(', ')})`).to.be.below(PING_MS);
  }

  it('the checks catch a script that runs long: a 100 ms script is in SLOWLOG and holds a PING past 50 ms', async () => {
    const { slowScripts, ping } = await watched(() => admin.eval(BUSY_SCRIPT, 0, 100_000));
    expect(slowScripts).to.have.length(1);
    expect(ping.maxMs).to.be.above(PING_MS);
  });

  it('200,000 holds of one item fall due together: no script runs 20 ms, PINGs are answered within 50 ms, the next reservations are granted, the stock comes out exact', async () => {
    await sleepPast(dueAt.pile);
    const expiredBefore = expiredHolds(log, 'pile');
    const { result, slowScripts, ping } = await watched(async () => {
      // The figure (EXTRA) can grant one unit: granted by one call, reaping waits for no one.
      const first = held(await store.reserve('pile', 1));
      const callsOfFirst = await scriptCalls();
      // This one needs most of the pile's units back: the store calls again while the script answers "call again".
      const large = held(await store.reserve('pile', 150_000));
      return { first, callsOfFirst, large, stock: await store.getStock('pile') };
    });
    expect(result.callsOfFirst, 'script calls of the first reservation').to.equal(1);
    expect(result.stock).to.equal(PILE + EXTRA - 1 - 150_000);
    const holds = await store.getHolds('pile', { limit: 10 });
    expect(holds).to.deep.include({ count: 2, units: 150_001 });
    expect(holds.holds.map((h) => h.holdId).sort()).to.deep.equal([result.first.holdId, result.large.holdId].sort());
    // Every hold of the pile expired once, and nothing of the pile is left to reap.
    expect(expiredHolds(log, 'pile') - expiredBefore).to.equal(PILE);
    expect(await admin.llen(keysOf('pile')[2])).to.equal(2);
    expect(await admin.zcard(keysOf('pile')[3])).to.equal(0);
    expect(slowScripts).to.deep.equal([]);
    expectServed(ping);
  });

  it('a cart of four items, each with 50,000 due holds: no script runs 20 ms, PINGs are answered within 50 ms, the cart is granted, every stock comes out exact', async () => {
    await sleepPast(dueAt.cart);
    const { result, slowScripts, ping } = await watched(async () => {
      // No line can be granted from its figure (EXTRA): each needs 30,000 of its pile's units back first.
      const cart = await store.reserveCart(CART_ITEMS.map((key) => ({ key, qty: 30_000 })));
      return { cart, stocks: await Promise.all(CART_ITEMS.map((key) => store.getStock(key))) };
    });
    expect(result.cart.status).to.equal('reserved');
    expect(result.stocks).to.deep.equal(CART_ITEMS.map(() => CART_PILE + EXTRA - 30_000));
    for (const key of CART_ITEMS) {
      expect(await store.getHolds(key, { limit: 0 }), key).to.deep.include({ count: 1, units: 30_000 });
      expect(await admin.llen(keysOf(key)[2]), key).to.equal(1);
    }
    expect(slowScripts).to.deep.equal([]);
    expectServed(ping);
  });

  it('200,000 settled records whose retention ends together: no script runs 20 ms, PINGs are answered within 50 ms, the next reservation is granted, the records go a batch a call', async () => {
    await sleepPast(dueAt.settled);
    const [, holdsKey, , , purgeKey] = keysOf('settled');
    const { result, slowScripts, ping } = await watched(async () => {
      const first = held(await store.reserve('settled', 1));
      const callsOfFirst = await scriptCalls();
      // Reads of the figure forget a batch each, as any traffic on the item does.
      let reads = 0;
      while ((await admin.llen(purgeKey)) > 0 && reads < PILE / 10) {
        await store.getStock('settled');
        reads++;
      }
      return { first, callsOfFirst, reads };
    });
    expect(result.callsOfFirst, 'script calls of the first reservation').to.equal(1);
    expect(await admin.llen(purgeKey), `records left to forget after ${result.reads} reads`).to.equal(0);
    // The counters and the one open hold: every settled record is gone.
    expect(await admin.hlen(holdsKey)).to.equal(2);
    expect(await store.getStock('settled')).to.equal(EXTRA - 1);
    expect(slowScripts).to.deep.equal([]);
    expectServed(ping);
  });
});

/** Holds of `key` the store reported expired so far. */
function expiredHolds(log: EventLog, key: string): number {
  return log.of('expired').filter((e) => e.key === key).reduce((sum, e) => sum + e.holds, 0);
}
