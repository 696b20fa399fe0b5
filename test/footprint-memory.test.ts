/**
 * Memory that comes back (issue 13): settled records are forgotten as
 * traffic flows once their retention is over, and every key of an item
 * expires once the item is idle, but for the one case where a key must
 * stay: a figure that never expires (ttlSeconds 0) keeps its hold keys while
 * it has open holds, whose units only a reap can give back. On a private
 * redis-server, so that its memory figures are this suite's alone.
 */
import { expect } from 'chai';
import Redis from 'ioredis';
import { createStockStore, stockKeys, type StockStore, type StockStoreOptions } from '../lib';
import { held, sleepPast } from './helpers/holds';
import { usePrivateRedis } from './helpers/private-redis';
import { keysWithPrefix, uniquePrefix } from './helpers/redis';
import { sleep, waitFor } from './helpers/wait';

describe('footprint: memory that comes back (private redis-server)', function () {
  this.timeout(120_000);
  let admin: Redis;
  const client = usePrivateRedis({}, (opened) => ({ admin } = opened));

  function make(options: Partial<StockStoreOptions> = {}) {
    const prefix = uniquePrefix('fp-mem');
    const store = createStockStore({ redis: client(), prefix, ...options });
    return { prefix, store, keys: (key: string) => stockKeys(prefix, key).holds };
  }

  const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await admin.info('memory'))?.[1]);

  /** Every key under `prefix` with its PTTL (-1: none). */
  async function ttls(prefix: string): Promise<Record<string, number>> {
    const keys = await keysWithPrefix(admin, prefix);
    return Object.fromEntries(await Promise.all(keys.map(async (key) => [key.slice(prefix.length), await admin.pttl(key)] as const)));
  }

  /** `count` reservations of one unit, each committed or released at once, 500 at a time; how many were settled so. */
  async function reserveAndSettle(store: StockStore, key: string, count: number, action: 'commit' | 'release'): Promise<number> {
    let settled = 0;
    for (let from = 0; from < count; from += 500) {
      const pairs = Array.from({ length: Math.min(500, count - from) }, async () => {
        const { holdId } = held(await store.reserve(key, 1));
        if ((await store[action](holdId)).changed) settled++;
      });
      await Promise.all(pairs);
    }
    return settled;
  }

  it('100,000 reservations committed and 100,000 released, retentionSeconds 1: a little traffic later, the settled records and their tickets are back under a small bound, the memory with them', async () => {
    const { store, keys } = make({ retentionSeconds: 1, holdSeconds: 2 });
    const [, holds, due, dueSorted, purge] = keys('sku');
    const LITTLE = 100;
    await store.setStock('sku', 1_000_000);
    // The scripts loaded, the item's keys made: what is measured next is the records alone.
    let committed = await reserveAndSettle(store, 'sku', LITTLE, 'commit');
    await reserveAndSettle(store, 'sku', LITTLE, 'release');
    const before = await usedMemory();
    committed += await reserveAndSettle(store, 'sku', 100_000, 'commit');
    await reserveAndSettle(store, 'sku', 100_000, 'release');
    // Every record's retention and every hold's time is over...
    await sleep(2500);
    // ...and a little more traffic forgets them, a batch a call.
    const more = await reserveAndSettle(store, 'sku', LITTLE, 'commit');
    const records = (await admin.hlen(holds)) - 1;
    expect(records, "the holds hash's records (all but the counters)").to.be.at.most(LITTLE);
    expect(await admin.llen(purge), 'tickets of records to forget').to.be.at.most(LITTLE);
    expect(await admin.llen(due), 'tickets of holds').to.be.at.most(LITTLE);
    expect(await admin.zcard(dueSorted)).to.equal(0);
    // And so is the memory (tens of MB, had the records stayed), but for those last records' few kB.
    expect((await usedMemory()) - before, 'memory left after').to.be.below(2 ** 20);
    // And not one unit lost or made up on the way.
    expect(await store.getStock('sku')).to.equal(1_000_000 - committed - more);
  });

  it('an item whose figure expired with no open hold leaves no key behind: every key has a TTL, and all vanish', async () => {
    const { prefix, store } = make({ ttlSeconds: 1, holdSeconds: 1, retentionSeconds: 1 });
    // A hold committed, one released, one of a customer under a limit left to expire, one refusal; a restock and a reconcile.
    const a = held(await store.reserve('sku', 2, () => 10));
    const b = held(await store.reserve('sku', 3));
    const c = held(await store.reserve('sku', 1, undefined, { customer: 'ann', limit: 2 }));
    expect((await store.reserve('sku', 100)).status).to.equal('insufficient');
    await store.commit(a.holdId);
    await store.release(b.holdId);
    await store.addStock('sku', 1);
    await store.reconcile('sku', 9);
    const live = await ttls(prefix);
    expect(Object.keys(live)).to.include.members(['{sku}', '{sku}:holds', '{sku}:due', '{sku}:purge', '{sku}:quiet']);
    for (const [key, ttl] of Object.entries(live)) expect(ttl, `${key} expires`).to.be.above(0);
    // The last hold falls due, unsettled, and nothing touches the item again.
    await sleepPast(c.expiresAt);
    await waitFor(async () => (await keysWithPrefix(admin, prefix)).length === 0, 'every key of the item to expire', 15_000, 200);
  });

  it('a figure that never expires (ttlSeconds 0) keeps its hold keys while holds are open, however long, and they expire again once none is', async () => {
    const { prefix, store, keys } = make({ ttlSeconds: 0, holdSeconds: 1, retentionSeconds: 1 });
    const [figure, holds, due, , purge, quiet] = keys('sku');
    await store.setStock('sku', 10);
    const first = held(await store.reserve('sku', 4));
    held(await store.reserve('sku', 3, undefined, { holdSeconds: 2 }));
    await store.commit(first.holdId);
    const open = await ttls(prefix);
    for (const key of [figure, holds, due, purge]) expect(open[key.slice(prefix.length)], `${key} while a hold is open`).to.equal(-1);
    expect(open[quiet.slice(prefix.length)]).to.be.above(0);
    // Long past the hold and every retention, no call yet: the units it owes are still there to reap.
    await sleep(4000);
    expect(await admin.exists(holds, due)).to.equal(2);
    expect(await store.getStock('sku')).to.equal(6);
    // Reaped: no hold open, so the hold keys expire again (the figure never does).
    const idle = await ttls(prefix);
    expect(idle[figure.slice(prefix.length)]).to.equal(-1);
    for (const [key, ttl] of Object.entries(idle)) if (key !== figure.slice(prefix.length)) expect(ttl, `${key} once no hold is open`).to.be.above(0);
    await waitFor(async () => (await keysWithPrefix(admin, prefix)).join() === figure, 'only the figure to stay', 15_000, 200);
    expect(await store.getStock('sku')).to.equal(6);
  });

  it("a figure that never expires with a per-customer limit of its own keeps its hold keys, open holds or not: the customers' counts last as long as the sale", async () => {
    const { prefix, store, keys } = make({ ttlSeconds: 0, holdSeconds: 1, retentionSeconds: 1 });
    const [figure, holds] = keys('sku');
    await store.setStock('sku', 10);
    await store.setLimit('sku', 2);
    const hold = held(await store.reserve('sku', 2, undefined, { customer: 'ann' }));
    await store.commit(hold.holdId);
    expect((await store.reserve('sku', 1, undefined, { customer: 'ann' })).status).to.equal('limit');
    // No hold open, every retention over: the count of what ann bought stays, and so do the keys it needs.
    await sleep(3000);
    expect(await store.getStock('sku')).to.equal(8);
    for (const key of [figure, holds]) expect(await admin.pttl(key), key.slice(prefix.length)).to.equal(-1);
    expect((await store.reserve('sku', 1, undefined, { customer: 'ann' })).status).to.equal('limit');
  });
});
