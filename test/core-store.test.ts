/**
 * The store API (addStock, setStock, getStock, TTLs, SET NX on
 * initialisation) and the events it reports.
 */
import { expect } from 'chai';
import request from 'supertest';
import { createStockStore, MAX_UNITS, reserveStock, stockKeys, type StockEvent, type StockStoreOptions } from '../lib';
import { express, jsonErrors } from './helpers/app';
import { EventLog } from './helpers/events';
import { expectHoldId, figureKeys, withoutHold } from './helpers/holds';
import { keysWithPrefix, useSharedRedis } from './helpers/redis';
import { sleep, waitFor } from './helpers/wait';

const shared = useSharedRedis('core-store');

function make(options: Partial<StockStoreOptions> = {}) {
  const prefix = shared.prefix();
  const log = new EventLog();
  const store = createStockStore({ redis: shared.redis, prefix, onEvent: log.onEvent, ...options });
  const pttl = (key: string) => shared.redis.pttl(stockKeys(prefix, key).stock);
  // The shortest TTL among the item's hold keys that exist (they expire together; the quiet key on its own).
  const holdKeysPttl = async (key: string) => {
    const holdKeys = stockKeys(prefix, key).holds.slice(1, 5);
    const ttls = await Promise.all(holdKeys.map((k) => shared.redis.pttl(k)));
    return Math.min(...ttls.filter((ttl) => ttl !== -2));
  };
  return { prefix, store, log, pttl, holdKeysPttl };
}

async function status(promise: Promise<unknown>): Promise<number | undefined> {
  return promise.then(
    () => undefined,
    (error: { status?: number }) => error.status,
  );
}

describe('core: store API', () => {
  describe('addStock', () => {
    it('returns null and writes nothing for an absent key', async () => {
      const { prefix, store } = make();
      expect(await store.addStock('absent', 5)).to.equal(null);
      expect(await keysWithPrefix(shared.redis, prefix)).to.deep.equal([]);
      expect(await store.getStock('absent')).to.equal(null);
    });

    it('returns -1 and leaves an unlimited figure unlimited', async () => {
      const { store } = make();
      await store.setStock('free', -1);
      expect(await store.addStock('free', 5)).to.equal(-1);
      expect(await store.getStock('free')).to.equal(-1);
    });

    it('adds to a loaded figure, returns the new figure and keeps its TTL', async () => {
      const { store, pttl } = make();
      await store.setStock('sku', 5, 100);
      expect(await store.addStock('sku', 3)).to.equal(8);
      expect(await store.getStock('sku')).to.equal(8);
      expect(await pttl('sku')).to.be.within(90_000, 100_000);
    });

    it('refuses a bad quantity with a 400', async () => {
      const { store } = make();
      await store.setStock('sku', 5);
      for (const qty of [0, -3, 1.5, NaN, MAX_UNITS + 1]) expect(await status(store.addStock('sku', qty)), String(qty)).to.equal(400);
      expect(await store.getStock('sku')).to.equal(5);
    });
  });

  describe('setStock', () => {
    it('with a TTL sets that TTL', async () => {
      const { store, pttl } = make({ ttlSeconds: 3600 });
      await store.setStock('sku', 7, 100);
      expect(await store.getStock('sku')).to.equal(7);
      expect(await pttl('sku')).to.be.within(90_000, 100_000);
    });

    it('with ttl 0 writes a figure that never expires, even over one that did', async () => {
      const { store, pttl } = make();
      await store.setStock('sku', 7, 100);
      await store.setStock('sku', 9, 0);
      expect(await store.getStock('sku')).to.equal(9);
      expect(await pttl('sku')).to.equal(-1);
    });

    it("without a TTL uses the store's ttlSeconds", async () => {
      const { store, pttl } = make({ ttlSeconds: 200 });
      await store.setStock('sku', 1);
      expect(await pttl('sku')).to.be.within(190_000, 200_000);
    });

    it('without a TTL on a store with ttlSeconds 0: no expiry', async () => {
      const { store, pttl } = make({ ttlSeconds: 0 });
      await store.setStock('sku', 1);
      expect(await pttl('sku')).to.equal(-1);
    });

    it('overwrites whatever is there, and accepts 0 and -1', async () => {
      const { store } = make();
      await store.setStock('sku', 10);
      await store.setStock('sku', 0);
      expect(await store.getStock('sku')).to.equal(0);
      await store.setStock('sku', -1);
      expect(await store.getStock('sku')).to.equal(-1);
    });

    it('refuses a bad figure or TTL with a 400 and writes nothing', async () => {
      const { prefix, store } = make();
      for (const qty of [-2, 1.5, NaN, '3', MAX_UNITS + 1]) {
        expect(await status(store.setStock('sku', qty as number)), String(qty)).to.equal(400);
      }
      for (const ttl of [-1, 1.5, NaN]) expect(await status(store.setStock('sku', 1, ttl)), String(ttl)).to.equal(400);
      expect(await keysWithPrefix(shared.redis, prefix)).to.deep.equal([]);
    });
  });

  describe('getStock', () => {
    it('null when not initialised, -1 when unlimited, else the number', async () => {
      const { store } = make();
      expect(await store.getStock('sku')).to.equal(null);
      await store.setStock('sku', -1);
      expect(await store.getStock('sku')).to.equal(-1);
      await store.setStock('sku', 42);
      expect(await store.getStock('sku')).to.equal(42);
    });
  });

  describe('initialisation', () => {
    it("the loaded figure gets the store's ttlSeconds, and reservations keep it (holds shorter than the TTL)", async () => {
      const { store, pttl, holdKeysPttl } = make({ ttlSeconds: 120, holdSeconds: 60 });
      await store.reserve('sku', 1, () => 10);
      expect(await pttl('sku')).to.be.within(110_000, 120_000);
      // The hold keys (and the epoch counter among them) outlive the figure.
      expect(await holdKeysPttl('sku')).to.be.within(120_000, 150_000);
      await store.reserve('sku', 1);
      expect(await pttl('sku')).to.be.within(110_000, 120_000);
      expect(await holdKeysPttl('sku')).to.be.within(110_000, 150_000);
      expect(await store.getStock('sku')).to.equal(8);
    });

    it('a figure never expires before the holds taken from it: a longer hold stretches its TTL, by a quarter more', async () => {
      const { store, pttl, holdKeysPttl } = make({ ttlSeconds: 120 });
      // The default hold (900 s) outlasts the figure's 120 s: stretched to 900 s and a quarter.
      await store.reserve('sku', 1, () => 10);
      expect(await pttl('sku')).to.be.within(1_120_000, 1_125_000);
      // The hold keys outlive the figure while it has open holds, by a quarter more.
      expect(await holdKeysPttl('sku')).to.be.within(1_120_000, 1_410_000);
      // A reservation with a shorter hold leaves the longer TTL alone.
      await store.reserve('sku', 1, undefined, { holdSeconds: 30 });
      expect(await pttl('sku')).to.be.within(1_110_000, 1_125_000);
      // So does one within the quarter: no call on the hot path stretches it again.
      await store.reserve('sku', 1, undefined, { holdSeconds: 1000 });
      expect(await pttl('sku')).to.be.within(1_110_000, 1_125_000);
      // One with a longer hold stretches it again.
      await store.reserve('sku', 1, undefined, { holdSeconds: 2000 });
      expect(await pttl('sku')).to.be.within(2_490_000, 2_500_000);
      expect(await holdKeysPttl('sku')).to.be.within(2_490_000, 3_125_000);
      expect(await store.getStock('sku')).to.equal(6);
    });

    it('the default TTL is one hour', async () => {
      const { store, pttl } = make();
      await store.reserve('sku', 1, () => 10);
      expect(await pttl('sku')).to.be.within(3_590_000, 3_600_000);
    });

    it('ttlSeconds 0: the loaded figure never expires', async () => {
      const { store, pttl } = make({ ttlSeconds: 0 });
      await store.reserve('sku', 1, () => 10);
      expect(await pttl('sku')).to.equal(-1);
    });

    it('never overwrites a figure written while the loader ran (SET NX)', async () => {
      const { store, log } = make();
      const result = await store.reserve('sku', 1, async () => {
        // Someone else (a restock, or a holder whose lock expired) writes first.
        await store.setStock('sku', 5);
        return 100;
      });
      expect(withoutHold(result, 'sku')).to.deep.equal({ status: 'reserved', remaining: 4 });
      expect(await store.getStock('sku')).to.equal(4);
      expect(log.count('initialised')).to.equal(0);
    });

    it('an existing figure is used as is: the loader is not called', async () => {
      const { store } = make();
      await store.setStock('sku', 3);
      let calls = 0;
      expect(withoutHold(await store.reserve('sku', 1, () => ++calls), 'sku')).to.deep.equal({ status: 'reserved', remaining: 2 });
      expect(calls).to.equal(0);
    });
  });

  describe('release', () => {
    it("gives the hold's units back once; when the figure is gone, it writes no figure", async () => {
      const { prefix, store } = make();
      const [figure, holds, due, , purge, quiet] = stockKeys(prefix, 'sku').holds;
      await store.setStock('sku', 5);
      const first = await store.reserve('sku', 2);
      if (first.status !== 'reserved') throw new Error(`not reserved: ${JSON.stringify(first)}`);
      expect(await store.getStock('sku')).to.equal(3);
      expect(await store.release(first.holdId)).to.deep.equal({ state: 'released', changed: true });
      expect(await store.getStock('sku')).to.equal(5);
      expect(await store.release(first.holdId)).to.deep.equal({ state: 'released', changed: false });
      expect(await store.getStock('sku')).to.equal(5);

      const second = await store.reserve('sku', 2);
      if (second.status !== 'reserved') throw new Error(`not reserved: ${JSON.stringify(second)}`);
      await shared.redis.del(figure);
      expect(await store.release(second.holdId)).to.deep.equal({ state: 'released', changed: true });
      expect(await store.getStock('sku')).to.equal(null);
      // Only the hold keys remain (records, the due tickets, the purge queue, the quiet key): no figure, no open hold.
      expect(await keysWithPrefix(shared.redis, prefix)).to.deep.equal([holds, due, purge, quiet].sort());
      expect((await store.getHolds('sku')).count).to.equal(0);
    });

    it('an id Redis never saw is unknown: nothing changes', async () => {
      const { prefix, store, log } = make();
      await store.setStock('sku', 5);
      const stranger = store.holdId('sku');
      expect(await store.release(stranger)).to.deep.equal({ state: 'unknown', changed: false });
      expect(await store.commit(stranger)).to.deep.equal({ state: 'unknown', changed: false });
      expect(await store.extend(stranger, 60)).to.deep.equal({ state: 'unknown', expiresAt: null });
      expect(await store.getStock('sku')).to.equal(5);
      expect(await keysWithPrefix(shared.redis, prefix)).to.deep.equal(figureKeys(prefix, 'sku'));
      expect(log.events).to.deep.equal([]);
    });
  });

  it('a figure that is not an integer is a 503, never a sale', async () => {
    const { prefix, store } = make();
    await shared.redis.set(stockKeys(prefix, 'sku').stock, 'lots');
    expect(await status(store.reserve('sku', 1))).to.equal(503);
    expect(await shared.redis.get(stockKeys(prefix, 'sku').stock)).to.equal('lots');
  });
});

describe('core: events', () => {
  it('reports initialised, reserved, sold-out, released and committed with their fields', async () => {
    const { store, log } = make();
    const first = await store.reserve('sku', 2, () => 3);
    await store.reserve('sku', 2);
    if (first.status !== 'reserved') throw new Error('not reserved');
    await store.release(first.holdId);
    await store.release(first.holdId); // settled before: no second event
    await store.setStock('free', -1);
    const free = await store.reserve('free', 4);
    if (free.status !== 'unlimited') throw new Error('not unlimited');
    await store.commit(free.holdId);
    await store.commit(free.holdId);
    expectHoldId(first.holdId, 'sku');
    expectHoldId(free.holdId, 'free');
    const expected: StockEvent[] = [
      { type: 'initialised', key: 'sku', stock: 3 },
      { type: 'reserved', key: 'sku', qty: 2, remaining: 1, holdId: first.holdId },
      { type: 'sold-out', key: 'sku', requested: 2, available: 1, cached: false },
      { type: 'released', key: 'sku', holdId: first.holdId },
      { type: 'reserved', key: 'free', qty: 4, remaining: -1, holdId: free.holdId },
      { type: 'committed', key: 'free', holdId: free.holdId },
    ];
    expect(log.events).to.deep.equal(expected);
    expect(await store.getStock('sku')).to.equal(3);
  });

  it('reports a released event when the figure is gone (nothing given back to it)', async () => {
    const { prefix, store, log } = make();
    await store.setStock('gone', 4);
    const held = await store.reserve('gone', 1);
    if (held.status !== 'reserved') throw new Error('not reserved');
    await shared.redis.del(stockKeys(prefix, 'gone').stock);
    expect(await store.release(held.holdId)).to.deep.equal({ state: 'released', changed: true });
    expect(log.events).to.deep.equal([
      { type: 'reserved', key: 'gone', qty: 1, remaining: 3, holdId: held.holdId },
      { type: 'released', key: 'gone', holdId: held.holdId },
    ]);
    expect(await store.getStock('gone')).to.equal(null);
  });

  it('reports errors with their operation, key and error', async () => {
    const { store, log } = make();
    const failure = new Error('db down');
    await status(
      store.reserve('sku', 1, () => {
        throw failure;
      }),
    );
    const errors = log.of('error');
    expect(errors).to.have.length(2);
    expect(errors[0]).to.deep.include({ type: 'error', operation: 'load', key: 'sku', error: failure });
    expect(errors[1]).to.deep.include({ type: 'error', operation: 'reserve', key: 'sku' });
    expect(errors[1]?.error).to.be.instanceOf(Error).and.include({ status: 503 });
  });

  it('a 400 is not reported as an error', async () => {
    const { store, log } = make();
    await status(store.reserve('sku', 0));
    expect(log.events).to.deep.equal([]);
  });

  it('the middleware reports through the store: reserved, released, sold-out', async () => {
    const { store, log } = make();
    await store.setStock('sku', 1);
    const app = express();
    app.post('/order', reserveStock({ store, key: 'sku' }), (_req, res) => res.status(500).end());
    app.use(jsonErrors);
    expect((await request(app).post('/order')).status).to.equal(500);
    await waitFor(() => log.count('released') === 1, 'the give-back');
    await store.setStock('sku', 0);
    expect((await request(app).post('/order')).status).to.equal(409);
    const holdId = log.of('reserved')[0]?.holdId;
    expectHoldId(holdId, 'sku');
    expect(log.events).to.deep.equal([
      { type: 'reserved', key: 'sku', qty: 1, remaining: 0, holdId },
      { type: 'released', key: 'sku', holdId },
      { type: 'sold-out', key: 'sku', requested: 1, available: 0, cached: false },
    ]);
  });

  it('an onEvent that throws breaks nothing: reserve, sold out, rollback, load all work', async () => {
    let calls = 0;
    const { store } = make({
      onEvent: () => {
        calls++;
        throw new Error('logger exploded');
      },
    });
    const held = await store.reserve('sku', 1, () => 2);
    expect(withoutHold(held, 'sku')).to.deep.equal({ status: 'reserved', remaining: 1 });
    expect(await store.reserve('sku', 5)).to.deep.equal({ status: 'insufficient', available: 1 });
    if (held.status !== 'reserved') throw new Error('not reserved');
    expect(await store.release(held.holdId)).to.deep.equal({ state: 'released', changed: true });
    expect(await store.getStock('sku')).to.equal(2);

    const app = express();
    app.post('/order', reserveStock({ store, key: 'sku', qty: 2 }), (_req, res) => res.status(422).end());
    app.use(jsonErrors);
    expect((await request(app).post('/order')).status).to.equal(422);
    await waitFor(async () => (await store.getStock('sku')) === 2, 'the give-back despite the throwing onEvent');
    await sleep(100);
    expect(await store.getStock('sku')).to.equal(2);
    expect(calls).to.equal(6); // initialised, reserved, sold-out, released, reserved, released
  });
});
