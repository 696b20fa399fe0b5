/**
 * Exact numbers (issue 13): quantities and figures are whole numbers up to
 * MAX_UNITS (2^31 - 1) at every input, and the scripts carry them exactly
 * through a hold's record, its release, expiry and commit. Here: each
 * input takes MAX_UNITS and works with it to the unit, and the sums that
 * would pass it are refused. One past the bound is refused with the other
 * bad values of each input: a quantity (reserve, the middleware) in
 * core-validation, a cart line in cart, setStock's and addStock's in
 * core-store, the loader's answer (a 503 and an error event) in
 * core-loader; reconcile's database figure here.
 */
import { expect } from 'chai';
import { createStockStore, MAX_UNITS, type StockStoreOptions } from '../lib';
import { EventLog } from './helpers/events';
import { held, sleepPast } from './helpers/holds';
import { useSharedRedis } from './helpers/redis';

const shared = useSharedRedis('max-units');

function make(options: Partial<StockStoreOptions> = {}) {
  const log = new EventLog();
  const store = createStockStore({ redis: shared.redis, prefix: shared.prefix(), onEvent: log.onEvent, ...options });
  return { store, log };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('exact numbers: MAX_UNITS (2^31 - 1) at every input', () => {
  it('is 2^31 - 1', () => {
    expect(MAX_UNITS).to.equal(2_147_483_647);
  });

  it('setStock, reserve and a cart line take MAX_UNITS: the whole figure, to the unit', async () => {
    const { store } = make();
    await store.setStock('sku', MAX_UNITS);
    expect(await store.getStock('sku')).to.equal(MAX_UNITS);
    expect(held(await store.reserve('sku', MAX_UNITS)).remaining).to.equal(0);
    await store.setStock('cart', MAX_UNITS);
    const cart = await store.reserveCart([{ key: 'cart', qty: MAX_UNITS }]);
    expect(cart.status === 'reserved' && cart.lines.map((line) => line.remaining)).to.deep.equal([0]);
  });

  it('the loader may answer MAX_UNITS: loaded as it is', async () => {
    const { store, log } = make();
    expect(held(await store.reserve('sku', 1, () => MAX_UNITS)).remaining).to.equal(MAX_UNITS - 1);
    expect(log.of('initialised')).to.deep.equal([{ type: 'initialised', key: 'sku', stock: MAX_UNITS }]);
  });

  it('addStock: a restock up to MAX_UNITS is added; one that would pass it is a 400 that adds nothing', async () => {
    const { store } = make();
    await store.setStock('sku', MAX_UNITS - 5);
    expect(await store.addStock('sku', 5)).to.equal(MAX_UNITS);
    const error = await rejection(store.addStock('sku', 1));
    expect(error).to.include({ status: 400, code: 'ERR_RESERVE_STOCK_INPUT' });
    expect((error as Error).message).to.include(String(MAX_UNITS));
    await store.setStock('sku', 1);
    expect(await rejection(store.addStock('sku', MAX_UNITS))).to.include({ status: 400 });
    expect(await store.getStock('sku')).to.equal(1);
  });

  it('addStock counts the units in open holds too: a release could never take the figure past MAX_UNITS', async () => {
    const { store } = make();
    await store.setStock('sku', MAX_UNITS);
    const hold = held(await store.reserve('sku', 5));
    expect(await rejection(store.addStock('sku', 5))).to.include({ status: 400, code: 'ERR_RESERVE_STOCK_INPUT' });
    expect(await store.release(hold.holdId)).to.include({ state: 'released' });
    expect(await store.getStock('sku')).to.equal(MAX_UNITS);
    // A reservation's answer, replayed, is the figure it left: exact at the bound.
    const holdId = store.holdId('sku', 'replay');
    const first = held(await store.reserve('sku', 1, undefined, { holdId }));
    expect(first.remaining).to.equal(MAX_UNITS - 1);
    expect(held(await store.reserve('sku', 1, undefined, { holdId })).remaining).to.equal(MAX_UNITS - 1);
  });

  it('reconcile: a database figure of MAX_UNITS is compared and fixed to the unit; one past it is a 400 that changes nothing', async () => {
    const { store } = make();
    await store.setStock('sku', MAX_UNITS - 10);
    const hold = held(await store.reserve('sku', 3));
    expect(await store.reconcile('sku', MAX_UNITS, { fix: true })).to.deep.include({ redis: MAX_UNITS - 13, held: 3, drift: -10, fixed: true });
    expect(await store.getStock('sku')).to.equal(MAX_UNITS - 3);
    await store.release(hold.holdId);
    expect(await store.getStock('sku')).to.equal(MAX_UNITS);
    for (const database of [MAX_UNITS + 1, () => MAX_UNITS + 1]) {
      const error = await rejection(store.reconcile('sku', database, { fix: true }));
      expect(error, String(database)).to.include({ status: 400, code: 'ERR_RESERVE_STOCK_INPUT' });
    }
    expect(await store.getStock('sku')).to.equal(MAX_UNITS);
  });

  it('a hold of MAX_UNITS units: released or expired, every unit comes back; committed, none does; reconcile counts it exactly', async () => {
    const { store, log } = make({ holdSeconds: 1 });
    await store.setStock('sku', MAX_UNITS);
    const released = held(await store.reserve('sku', MAX_UNITS));
    expect(await store.reconcile('sku', MAX_UNITS)).to.deep.include({ redis: 0, held: MAX_UNITS, openHolds: 1, drift: 0 });
    await store.release(released.holdId);
    expect(await store.getStock('sku')).to.equal(MAX_UNITS);

    const expired = held(await store.reserve('sku', MAX_UNITS));
    await sleepPast(expired.expiresAt);
    expect(await store.getStock('sku')).to.equal(MAX_UNITS);
    expect(log.of('expired')).to.deep.equal([{ type: 'expired', key: 'sku', holds: 1 }]);

    const committed = held(await store.reserve('sku', MAX_UNITS, undefined, { holdSeconds: 60 }));
    expect(await store.commit(committed.holdId)).to.deep.equal({ state: 'committed', changed: true });
    expect(await store.getStock('sku')).to.equal(0);
    expect(await store.addStock('sku', MAX_UNITS)).to.equal(MAX_UNITS);
  });

  it('a cart line of MAX_UNITS released gives back every unit', async () => {
    const { store } = make();
    await store.setStock('a', MAX_UNITS);
    await store.setStock('b', MAX_UNITS);
    const cart = await store.reserveCart([
      { key: 'a', qty: MAX_UNITS },
      { key: 'b', qty: MAX_UNITS - 1 },
    ]);
    if (cart.status !== 'reserved') throw new Error(`not reserved: ${JSON.stringify(cart)}`);
    expect(cart.lines.map((line) => line.remaining)).to.deep.equal([0, 1]);
    for (const line of cart.lines) await store.release(line.holdId);
    expect([await store.getStock('a'), await store.getStock('b')]).to.deep.equal([MAX_UNITS, MAX_UNITS]);
  });
});
