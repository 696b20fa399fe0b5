/**
 * What only a Redis Cluster can break: an item's keys must share one slot,
 * the scripts must reach every master (and come back after SCRIPT FLUSH),
 * and a slot moved to another master in the middle of a sale must not lose
 * or double a unit (MOVED, ASK and TRYAGAIN followed by the client).
 */
import { expect } from 'chai';
import { createStockStore, stockKeys, type ReserveResult } from '../../lib';
import { held } from '../helpers/holds';
import { useSharedRedis } from '../helpers/redis';
import type { RedisServer } from '../helpers/redis-server';
import { sleep } from '../helpers/wait';
import { itemsOnDistinctMasters, sharedCluster } from './fixture';

const shared = useSharedRedis('cluster');

describe('Redis Cluster: slots, scripts and resharding', function () {
  this.timeout(60_000);

  it("every key of an item lands in its item's slot, whatever the name; items spread over the masters", async () => {
    const cluster = sharedCluster();
    const prefix = shared.prefix();
    const names = ['sku-1', 'a}b{', '{x}', '%7B', 'ü-ß', ...Array.from({ length: 30 }, (_, i) => `spread-${i}`)];
    const owners = new Set<RedisServer>();
    for (const name of names) {
      const keys = stockKeys(prefix, name);
      const slots = new Set(await Promise.all([...keys.holds, keys.lock].map((key) => cluster.slotOf(key))));
      expect([...slots], `slots of ${name}`).to.have.length(1);
      owners.add(await cluster.masterOfKey(keys.stock));
    }
    expect(owners.size, 'masters serving the items').to.equal(3);
  });

  it('a reservation writes its figure and hold on the master of the slot, and one script call touches them all', async () => {
    const cluster = sharedCluster();
    const prefix = shared.prefix();
    const store = createStockStore({ redis: shared.redis, prefix });
    await store.setStock('sku', 5);
    held(await store.reserve('sku', 2));
    const [figure, holds, due] = stockKeys(prefix, 'sku').holds;
    const master = await cluster.masterOfKey(figure);
    expect(await cluster.command(master, 'GET', figure)).to.equal('3');
    // The hold's record and counters, and its expiry ticket (lua/includes/counters.lua).
    expect(await cluster.command(master, 'HLEN', holds)).to.equal(2);
    expect(await cluster.command(master, 'LLEN', due)).to.equal(1);
  });

  it('SCRIPT FLUSH on every master: each operation loads its script again (NOSCRIPT, then EVAL)', async () => {
    const cluster = sharedCluster();
    const prefix = shared.prefix();
    const store = createStockStore({ redis: shared.redis, prefix });
    const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
    for (const key of keys) await store.setStock(key, 10);
    const before = await Promise.all(keys.map(async (key) => held(await store.reserve(key, 1))));

    const masters = await cluster.masters();
    const noscript = async () => {
      const counts = await Promise.all(masters.map((m) => cluster.errorCounts(m)));
      return counts.reduce((sum, c) => sum + (c.NOSCRIPT ?? 0), 0);
    };
    for (const master of masters) expect(await cluster.command(master, 'SCRIPT', 'FLUSH')).to.equal('OK');
    const noscriptBefore = await noscript();

    for (const [i, key] of keys.entries()) {
      const hold = before[i] as ReturnType<typeof held>;
      expect(await store.extend(hold.holdId, 60)).to.include({ state: 'held' });
      expect(await store.commit(hold.holdId)).to.deep.equal({ state: 'committed', changed: true });
      const again = held(await store.reserve(key, 2));
      expect(await store.release(again.holdId)).to.deep.equal({ state: 'released', changed: true });
      expect(await store.addStock(key, 1)).to.equal(10);
      expect(await store.getHolds(key)).to.deep.include({ count: 0, units: 0 });
      expect(await store.reconcile(key, 10)).to.deep.include({ drift: 0 });
    }
    expect(await noscript(), 'NOSCRIPT replies the client recovered from').to.be.above(noscriptBefore);
  });

  it('one hot item on each master, 500 concurrent buyers each: exactly min(N, S) reserved per item', async () => {
    const prefix = shared.prefix();
    const store = createStockStore({ redis: shared.redis, prefix });
    const STOCK = 200;
    const BUYERS = 500;
    const items = await itemsOnDistinctMasters(prefix, 3, 'item');
    for (const item of items) await store.setStock(item, STOCK);

    const results = await Promise.all(items.flatMap((item) => Array.from({ length: BUYERS }, () => store.reserve(item, 1))));

    for (const [i, item] of items.entries()) {
      const mine = results.slice(i * BUYERS, (i + 1) * BUYERS);
      expect(mine.filter((r) => r.status === 'reserved'), item).to.have.length(STOCK);
      expect(await store.getStock(item)).to.equal(0);
      expect(await store.getHolds(item)).to.deep.include({ count: STOCK, units: STOCK });
    }
  });

  it("a hot item's slot moved to another master key by key in the middle of the sale: exactly min(N, S) reserved", async () => {
    const cluster = sharedCluster();
    const prefix = shared.prefix();
    const store = createStockStore({ redis: shared.redis, prefix, timeoutMs: 10_000 });
    const STOCK = 600;
    await store.setStock('hot', STOCK);
    held(await store.reserve('hot', 1)); // every hold key exists before the move
    const { stock } = stockKeys(prefix, 'hot');
    const slot = await cluster.slotOf(stock);
    const from = await cluster.masterOfSlot(slot);
    const to = (await cluster.masters()).find((m) => m !== from) as RedisServer;

    const errorsBefore = await cluster.errorCounts(from);
    let moving = true;
    const results: ReserveResult[] = [];
    const buyers = Array.from({ length: 10 }, async () => {
      // Buy on while the slot moves, and then some: at least 400 attempts in all.
      while (moving || results.length < 400) {
        results.push(await store.reserve('hot', 1));
        await sleep(1);
      }
    });
    // Give each key's move time to meet reservations: some find the slot half moved.
    const moved = await cluster.moveSlot(slot, to, () => sleep(30)).finally(() => (moving = false));
    await Promise.all(buyers);

    expect(moved, 'keys moved').to.be.at.least(4);
    // The sale met the half-moved slot: the old master sent redirections.
    const errors = await cluster.errorCounts(from);
    const redirected = ['ASK', 'TRYAGAIN', 'MOVED'].map((kind) => (errors[kind] ?? 0) - (errorsBefore[kind] ?? 0));
    console.log(`      ${results.length} reservations; the old master answered ASK ${redirected[0]}, TRYAGAIN ${redirected[1]}, MOVED ${redirected[2]} times`);
    expect(redirected.reduce((a, b) => a + b)).to.be.above(0);
    expect(await cluster.masterOfSlot(slot)).to.equal(to);
    const reserved = results.filter((r) => r.status === 'reserved').length;
    expect(reserved + 1).to.equal(Math.min(results.length + 1, STOCK));
    expect(results.filter((r) => r.status === 'insufficient')).to.have.length(results.length - reserved);
    expect(await store.getStock('hot')).to.equal(STOCK - reserved - 1);
    expect(await store.getHolds('hot')).to.deep.include({ count: reserved + 1, units: reserved + 1 });
    expect(await cluster.command(from, 'CLUSTER', 'COUNTKEYSINSLOT', slot)).to.equal(0);
  });
});
