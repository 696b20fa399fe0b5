/**
 * The figure vanishes while holds are open (eviction, a flush, an operator's
 * DEL, expiry) and is reloaded from the database, or is overwritten with
 * setStock: a hold taken from the old figure never adds units to the new
 * one, whether it is released or expires.
 */
import { expect } from 'chai';
import { createStockStore, stockKeys, type StockStore } from '../lib';
import { EventLog } from './helpers/events';
import { withoutHold, held, type Held, sleepPast } from './helpers/holds';
import { useSharedRedis } from './helpers/redis';
import { sleep } from './helpers/wait';

const shared = useSharedRedis('holds-rel');

function make() {
  const prefix = shared.prefix();
  const log = new EventLog();
  const store = createStockStore({ redis: shared.redis, prefix, onEvent: log.onEvent });
  const [figure] = stockKeys(prefix, 'sku').holds;
  return { prefix, store, log, keys: { figure } };
}

/** A figure of 10 with two open holds: `long` (3 units, 15 min) and `short` (2 units, 1 s). */
async function twoHolds(store: StockStore): Promise<{ long: Held; short: Held }> {
  await store.setStock('sku', 10);
  const long = held(await store.reserve('sku', 3));
  const short = held(await store.reserve('sku', 2, undefined, { holdSeconds: 1 }));
  expect(await store.getStock('sku')).to.equal(5);
  return { long, short };
}

describe('holds: the figure vanishes or is replaced while holds are open', function () {
  this.timeout(30_000);

  const losses: [string, (keys: ReturnType<typeof make>['keys']) => Promise<unknown>][] = [
    ['the figure alone is deleted (evicted)', (k) => shared.redis.del(k.figure)],
    ['the figure expires', async (k) => {
      await shared.redis.pexpire(k.figure, 1);
      await sleep(20);
    }],
  ];
  for (const [label, lose] of losses) {
    it(`${label}: the reload stands; releasing or expiring an old hold adds nothing to it`, async () => {
      const { store, log, keys } = make();
      const { long, short } = await twoHolds(store);
      await lose(keys);
      expect(await store.getStock('sku')).to.equal(null);

      // Reloaded from the database, which knows nothing of the open holds: 10.
      let loads = 0;
      const reloaded = await store.reserve('sku', 1, () => {
        loads++;
        return 10;
      });
      expect(withoutHold(reloaded, 'sku')).to.deep.equal({ status: 'reserved', remaining: 9 });
      expect(loads).to.equal(1);
      expect(log.of('initialised')).to.deep.equal([{ type: 'initialised', key: 'sku', stock: 10 }]);

      // The old holds are still open and still settle, but give nothing to the new figure.
      expect(await store.getHolds('sku')).to.deep.include({ count: 3, units: 6 });
      expect(await store.release(long.holdId)).to.deep.equal({ state: 'released', changed: true });
      expect(await store.getStock('sku')).to.equal(9);
      await sleepPast(short.expiresAt);
      expect(await store.getStock('sku')).to.equal(9);
      expect(log.of('expired')).to.deep.equal([{ type: 'expired', key: 'sku', holds: 1 }]);
      expect(await store.commit(short.holdId)).to.deep.equal({ state: 'expired', changed: false });

      // A hold taken from the new figure gives back to it as usual.
      const fresh = held(reloaded);
      expect(await store.release(fresh.holdId)).to.deep.equal({ state: 'released', changed: true });
      expect(await store.getStock('sku')).to.equal(10);
      expect(await store.getHolds('sku')).to.deep.include({ count: 0, units: 0 });
    });
  }

  it('a release between the loss and the reload writes no figure, and the reload then stands', async () => {
    const { store, keys } = make();
    const { long } = await twoHolds(store);
    await shared.redis.del(keys.figure);
    expect(await store.release(long.holdId)).to.deep.equal({ state: 'released', changed: true });
    expect(await shared.redis.exists(keys.figure)).to.equal(0);
    expect(await store.addStock('sku', 5)).to.equal(null);
    expect(await shared.redis.exists(keys.figure)).to.equal(0);
    expect(withoutHold(await store.reserve('sku', 4, () => 10), 'sku')).to.deep.equal({ status: 'reserved', remaining: 6 });
    expect(await store.getStock('sku')).to.equal(6);
  });

  it('the whole item is flushed (holds included): an old id is unknown and changes nothing', async () => {
    const { prefix, store } = make();
    const { long, short } = await twoHolds(store);
    const all = stockKeys(prefix, 'sku').holds;
    await shared.redis.del(...all);
    expect(withoutHold(await store.reserve('sku', 1, () => 10), 'sku')).to.deep.equal({ status: 'reserved', remaining: 9 });
    expect(await store.release(long.holdId)).to.deep.equal({ state: 'unknown', changed: false });
    expect(await store.commit(short.holdId)).to.deep.equal({ state: 'unknown', changed: false });
    expect(await store.extend(long.holdId, 60)).to.deep.equal({ state: 'unknown', expiresAt: null });
    expect(await store.getStock('sku')).to.equal(9);
  });

  it('setStock over open holds starts afresh: their release or expiry adds nothing to it', async () => {
    const { store } = make();
    const { long, short } = await twoHolds(store);
    await store.setStock('sku', 50);
    expect(await store.release(long.holdId)).to.deep.equal({ state: 'released', changed: true });
    expect(await store.getStock('sku')).to.equal(50);
    await sleepPast(short.expiresAt);
    expect(await store.getStock('sku')).to.equal(50);
    // setStock again, to the same value: still a new figure.
    const h = held(await store.reserve('sku', 5));
    await store.setStock('sku', 50);
    expect(await store.release(h.holdId)).to.deep.equal({ state: 'released', changed: true });
    expect(await store.getStock('sku')).to.equal(50);
  });

  it('from unlimited to a figure and back: holds of unlimited stock never add units', async () => {
    const { store } = make();
    await store.setStock('sku', -1);
    const free = await store.reserve('sku', 5);
    if (free.status !== 'unlimited') throw new Error('not unlimited');
    await store.setStock('sku', 3);
    expect(await store.release(free.holdId)).to.deep.equal({ state: 'released', changed: true });
    expect(await store.getStock('sku')).to.equal(3);
    const h = held(await store.reserve('sku', 2));
    await store.setStock('sku', -1);
    expect(await store.release(h.holdId)).to.deep.equal({ state: 'released', changed: true });
    expect(await store.getStock('sku')).to.equal(-1);
  });

  it('the figure does not expire under an open hold; once the holds are done it may, and the reload is clean', async () => {
    const { store, keys } = make();
    await store.setStock('sku', 10, 1);
    const h = held(await store.reserve('sku', 4, undefined, { holdSeconds: 2 }));
    // The 1 s figure was stretched to outlive the 2 s hold, by a quarter more.
    expect(await shared.redis.pttl(keys.figure)).to.be.within(2000, 2500);
    await sleep(1300);
    expect(await store.getStock('sku')).to.equal(6);
    // Both run out; the figure expires soon after the hold it was kept for.
    await sleepPast(h.expiresAt + 500);
    expect(await shared.redis.exists(keys.figure)).to.equal(0);
    expect(withoutHold(await store.reserve('sku', 1, () => 10), 'sku')).to.deep.equal({ status: 'reserved', remaining: 9 });
    expect(await store.commit(h.holdId)).to.deep.equal({ state: 'expired', changed: false });
    expect(await store.getStock('sku')).to.equal(9);
  });

  it('concurrent reloads and releases of old holds: the figure ends at reload - new holds, exactly', async () => {
    const log = new EventLog();
    const prefix = shared.prefix();
    const stores = [0, 1, 2].map(() => createStockStore({ redis: shared.client(), prefix, onEvent: log.onEvent }));
    const store = stores[0] as StockStore;
    const figure = stockKeys(prefix, 'sku').stock;
    await store.setStock('sku', 1000);
    const old = await Promise.all(Array.from({ length: 100 }, (_, i) => store.reserve('sku', (i % 5) + 1).then(held)));
    expect(await store.getStock('sku')).to.equal(1000 - 300);
    await shared.redis.del(figure);

    let loads = 0;
    const loader = async () => {
      loads++;
      await sleep(20);
      return 500;
    };
    const work: Promise<unknown>[] = [];
    for (let i = 0; i < 200; i++) {
      const s = stores[i % 3] as StockStore;
      work.push(s.reserve('sku', 1, loader));
      if (i < 100) work.push(s.release((old[i] as Held).holdId));
    }
    const outcomes = await Promise.all(work);
    const fresh = outcomes.filter((o): o is Held => typeof o === 'object' && o !== null && 'status' in o && o.status === 'reserved');
    expect(fresh).to.have.length(200);
    expect(loads).to.equal(1);
    expect(await store.getStock('sku')).to.equal(500 - 200);
    expect(await store.getHolds('sku')).to.deep.include({ count: 200, units: 200 });
    expect(log.count('released')).to.equal(100);
  });
});
