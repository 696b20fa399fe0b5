/**
 * store.reconcile(key, databaseStock): drift = Redis available + units in
 * open holds - the database's figure, reported exactly (over- and
 * under-state); with { fix: true } the figure is reset to database - held
 * under the initialisation lock, open holds counted, and a hold released
 * after the fix gives its units back to the fixed figure.
 */
import { expect } from 'chai';
import { createStockStore, stockKeys, type StockStore } from '../lib';
import { EventLog } from './helpers/events';
import { keysWithPrefix, useSharedRedis } from './helpers/redis';
import { sleep } from './helpers/wait';
import { held, type Held } from './helpers/holds';

const shared = useSharedRedis('reconcile');

function make(options: { initTimeoutMs?: number } = {}) {
  const prefix = shared.prefix();
  const log = new EventLog();
  const store = createStockStore({ redis: shared.redis, prefix, onEvent: log.onEvent, ...options });
  return { prefix, store, log };
}

/**
 * The database had 10 and sold nothing yet; Redis took two holds (3 and 2
 * units) that the database does not know of: in step, figure 5, held 5.
 */
async function inStep(store: StockStore): Promise<{ a: Held; b: Held }> {
  await store.setStock('sku', 10);
  const a = held(await store.reserve('sku', 3));
  const b = held(await store.reserve('sku', 2));
  return { a, b };
}

describe('reconcile', () => {
  it('in step: drift 0, the open holds counted, nothing written', async () => {
    const { prefix, store, log } = make();
    await inStep(store);
    const keys = await keysWithPrefix(shared.redis, prefix);
    const figure = await shared.redis.get(stockKeys(prefix, 'sku').stock);
    expect(await store.reconcile('sku', 10)).to.deep.equal({
      key: 'sku',
      database: 10,
      redis: 5,
      held: 5,
      openHolds: 2,
      prepared: 0,
      inDoubt: 0,
      drift: 0,
      fixed: false,
      blockedBy: null,
    });
    // With fix, too: nothing to repair.
    expect(await store.reconcile('sku', 10, { fix: true })).to.include({ drift: 0, fixed: false });
    expect(await shared.redis.get(stockKeys(prefix, 'sku').stock)).to.equal(figure);
    expect(await keysWithPrefix(shared.redis, prefix)).to.deep.equal(keys);
    expect(log.of('reconciled')).to.deep.equal([
      { type: 'reconciled', key: 'sku', drift: 0, fixed: false },
      { type: 'reconciled', key: 'sku', drift: 0, fixed: false },
    ]);
  });

  it('Redis over-states (a write lost, the database sold 4 elsewhere): drift +4, reported exactly', async () => {
    const { store } = make();
    await inStep(store);
    expect(await store.reconcile('sku', 6)).to.deep.equal({
      key: 'sku',
      database: 6,
      redis: 5,
      held: 5,
      openHolds: 2,
      prepared: 0,
      inDoubt: 0,
      drift: 4,
      fixed: false,
      blockedBy: null,
    });
    expect(await store.getStock('sku')).to.equal(5);
  });

  it('Redis under-states (a restock Redis never heard of): drift -7, reported exactly', async () => {
    const { store } = make();
    await inStep(store);
    expect(await store.reconcile('sku', 17)).to.deep.include({ redis: 5, held: 5, drift: -7, fixed: false });
    expect(await store.getStock('sku')).to.equal(5);
  });

  it('committed and released holds are not counted; expired ones neither (reaped first)', async () => {
    const { store } = make();
    await store.setStock('sku', 10);
    const a = held(await store.reserve('sku', 3));
    const b = held(await store.reserve('sku', 2));
    const c = held(await store.reserve('sku', 1, undefined, { holdSeconds: 1 }));
    await store.commit(a.holdId); // the database sold these 3: it now says 7
    await store.release(b.holdId);
    await sleep(Math.max(0, c.expiresAt - Date.now()) + 150);
    expect(await store.reconcile('sku', 7)).to.deep.include({ redis: 7, held: 0, openHolds: 0, drift: 0 });
  });

  it('fix over-state: figure = database - held; drift 0 after; a release then gives its units back', async () => {
    const { store, log } = make();
    const { a, b } = await inStep(store);
    expect(await store.reconcile('sku', 6, { fix: true })).to.deep.equal({
      key: 'sku',
      database: 6,
      redis: 5,
      held: 5,
      openHolds: 2,
      prepared: 0,
      inDoubt: 0,
      drift: 4,
      fixed: true,
      blockedBy: null,
    });
    expect(await store.getStock('sku')).to.equal(1);
    expect(await store.reconcile('sku', 6)).to.deep.include({ redis: 1, held: 5, drift: 0, fixed: false });
    // The holds survived the fix and settle as usual.
    expect(await store.getHolds('sku')).to.deep.include({ count: 2, units: 5 });
    expect(await store.release(a.holdId)).to.deep.equal({ state: 'released', changed: true });
    expect(await store.getStock('sku')).to.equal(4);
    expect(await store.commit(b.holdId)).to.deep.equal({ state: 'committed', changed: true });
    expect(await store.getStock('sku')).to.equal(4);
    // The database now says 4 as well (the commit is an order of 2 in it).
    expect(await store.reconcile('sku', 4)).to.deep.include({ redis: 4, held: 0, drift: 0 });
    expect(log.of('reconciled').map((e) => [e.drift, e.fixed])).to.deep.equal([
      [4, true],
      [0, false],
      [0, false],
    ]);
  });

  it('fix under-state: figure = database - held, and holds still settle exactly', async () => {
    const { store } = make();
    const { a, b } = await inStep(store);
    expect(await store.reconcile('sku', 17, { fix: true })).to.deep.include({ drift: -7, fixed: true });
    expect(await store.getStock('sku')).to.equal(12);
    expect(await store.release(b.holdId)).to.deep.equal({ state: 'released', changed: true });
    expect(await store.getStock('sku')).to.equal(14);
    expect(await store.commit(a.holdId)).to.deep.equal({ state: 'committed', changed: true });
    expect(await store.reconcile('sku', 14)).to.deep.include({ redis: 14, held: 0, drift: 0 });
  });

  it('fix adopts holds from an older figure: released after the fix, they give back to it', async () => {
    const { store } = make();
    const { a, b } = await inStep(store);
    // An operator overwrote the figure: the old holds no longer give back to it...
    await store.setStock('sku', 10);
    expect(await store.reconcile('sku', 10)).to.deep.include({ redis: 10, held: 5, openHolds: 2, drift: 5 });
    // ...until the fix accounts for them in the new figure.
    expect(await store.reconcile('sku', 10, { fix: true })).to.deep.include({ drift: 5, fixed: true });
    expect(await store.getStock('sku')).to.equal(5);
    expect(await store.release(a.holdId)).to.deep.equal({ state: 'released', changed: true });
    expect(await store.getStock('sku')).to.equal(8);
    expect(await store.reconcile('sku', 10)).to.deep.include({ redis: 8, held: 2, drift: 0 });
    expect(await store.release(b.holdId)).to.deep.equal({ state: 'released', changed: true });
    expect(await store.reconcile('sku', 10)).to.deep.include({ redis: 10, held: 0, drift: 0 });
  });

  it('fix after the figure was lost and reloaded while holds were open', async () => {
    const { prefix, store } = make();
    const { a } = await inStep(store);
    await shared.redis.del(stockKeys(prefix, 'sku').stock);
    // The database still says 10: the reload knows nothing of the 5 units held.
    held(await store.reserve('sku', 1, () => 10));
    expect(await store.reconcile('sku', 10)).to.deep.include({ redis: 9, held: 6, openHolds: 3, drift: 5 });
    expect(await store.reconcile('sku', 10, { fix: true })).to.deep.include({ fixed: true });
    expect(await store.getStock('sku')).to.equal(4);
    expect(await store.release(a.holdId)).to.deep.equal({ state: 'released', changed: true });
    expect(await store.getStock('sku')).to.equal(7);
    expect(await store.reconcile('sku', 10)).to.deep.include({ redis: 7, held: 3, drift: 0 });
  });

  it('not loaded: redis null, drift null, and fix writes nothing', async () => {
    const { prefix, store, log } = make();
    const expected = { key: 'sku', database: 10, redis: null, held: 0, openHolds: 0, prepared: 0, inDoubt: 0, drift: null, fixed: false, blockedBy: null };
    expect(await store.reconcile('sku', 10)).to.deep.equal(expected);
    expect(await store.reconcile('sku', 10, { fix: true })).to.deep.equal(expected);
    expect(await keysWithPrefix(shared.redis, prefix)).to.deep.equal([]);
    expect(log.of('reconciled')).to.deep.equal([
      { type: 'reconciled', key: 'sku', drift: null, fixed: false },
      { type: 'reconciled', key: 'sku', drift: null, fixed: false },
    ]);
  });

  it('unlimited: in step when both are -1; otherwise drift null, and fix writes the database figure', async () => {
    const { store } = make();
    await store.setStock('free', -1);
    expect((await store.reserve('free', 1)).status).to.equal('unlimited');
    expect(await store.reconcile('free', -1)).to.deep.include({ redis: -1, held: 0, openHolds: 1, drift: 0 });
    expect(await store.reconcile('free', 20)).to.deep.include({ redis: -1, drift: null, fixed: false });
    expect(await store.reconcile('free', 20, { fix: true })).to.deep.include({ redis: -1, drift: null, fixed: true });
    expect(await store.getStock('free')).to.equal(20);
    await store.setStock('counted', 5);
    expect(await store.reconcile('counted', -1)).to.deep.include({ redis: 5, drift: null });
    await store.reconcile('counted', -1, { fix: true });
    expect(await store.getStock('counted')).to.equal(-1);
  });

  it('fix waits for the initialisation lock, and gives up with a 503 without writing', async () => {
    const { prefix, store } = make({ initTimeoutMs: 300 });
    await inStep(store);
    const { lock } = stockKeys(prefix, 'sku');
    await shared.redis.set(lock, 'a-loader', 'PX', 60_000);
    const error = await store.reconcile('sku', 6, { fix: true }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).to.include({ status: 503 });
    expect(await store.getStock('sku')).to.equal(5);
    expect(await shared.redis.get(lock)).to.equal('a-loader');
    // Once the lock is free, the fix goes through and frees it again.
    await shared.redis.del(lock);
    expect(await store.reconcile('sku', 6, { fix: true })).to.deep.include({ fixed: true });
    expect(await store.getStock('sku')).to.equal(1);
    await sleep(100);
    expect(await shared.redis.exists(lock)).to.equal(0);
  });

  it('a fix racing sales: no unit is lost or made up (figure + held == database afterwards)', async () => {
    const prefix = shared.prefix();
    const stores = [0, 1, 2].map(() => createStockStore({ redis: shared.client(), prefix }));
    const store = stores[0] as StockStore;
    await store.setStock('sku', 1000);
    // Redis lost 100 units' worth of sales: it says 1000, the database 900.
    const sales = Array.from({ length: 300 }, (_, i) => (stores[i % 3] as StockStore).reserve('sku', 1));
    const fix = store.reconcile('sku', 900, { fix: true });
    const [report] = await Promise.all([fix, ...sales]);
    expect(report).to.include({ fixed: true });
    const after = await store.reconcile('sku', 900);
    expect(after.held).to.equal(300);
    expect(after.drift).to.equal(0);
    expect(await store.getStock('sku')).to.equal(600);
  });
});
