/**
 * The store API (addStock, setStock, getStock, TTLs, SET NX on
 * initialisation) and the events it reports.
 */
import { expect } from 'chai';
import request from 'supertest';
import { createStockStore, reserveStock, stockKeys, type StockEvent, type StockStoreOptions } from '../lib';
import { express, jsonErrors } from './helpers/app';
import { EventLog } from './helpers/events';
import { keysWithPrefix, useSharedRedis } from './helpers/redis';
import { sleep, waitFor } from './helpers/wait';

const shared = useSharedRedis('core-store');

function make(options: Partial<StockStoreOptions> = {}) {
  const prefix = shared.prefix();
  const log = new EventLog();
  const store = createStockStore({ redis: shared.redis, prefix, onEvent: log.onEvent, ...options });
  const pttl = (key: string) => shared.redis.pttl(stockKeys(prefix, key).stock);
  return { prefix, store, log, pttl };
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
      for (const qty of [0, -3, 1.5, NaN]) expect(await status(store.addStock('sku', qty)), String(qty)).to.equal(400);
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
      for (const qty of [-2, 1.5, NaN, '3']) {
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
    it("the loaded figure gets the store's ttlSeconds, and reservations keep it", async () => {
      const { store, pttl } = make({ ttlSeconds: 120 });
      await store.reserve('sku', 1, () => 10);
      expect(await pttl('sku')).to.be.within(110_000, 120_000);
      await store.reserve('sku', 1);
      expect(await pttl('sku')).to.be.within(110_000, 120_000);
      expect(await store.getStock('sku')).to.equal(8);
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
      expect(result).to.deep.equal({ status: 'reserved', remaining: 4 });
      expect(await store.getStock('sku')).to.equal(4);
      expect(log.count('initialised')).to.equal(0);
    });

    it('an existing figure is used as is: the loader is not called', async () => {
      const { store } = make();
      await store.setStock('sku', 3);
      let calls = 0;
      expect(await store.reserve('sku', 1, () => ++calls)).to.deep.equal({ status: 'reserved', remaining: 2 });
      expect(calls).to.equal(0);
    });
  });

  describe('release', () => {
    it('adds the units back and returns the new figure; null (nothing written) when the key is gone', async () => {
      const { prefix, store } = make();
      await store.setStock('sku', 5);
      await store.reserve('sku', 2);
      expect(await store.release('sku', 2)).to.equal(5);
      await shared.redis.del(stockKeys(prefix, 'sku').stock);
      expect(await store.release('sku', 2)).to.equal(null);
      expect(await keysWithPrefix(shared.redis, prefix)).to.deep.equal([]);
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
  it('reports initialised, reserved, sold-out and released with their fields', async () => {
    const { store, log } = make();
    await store.reserve('sku', 2, () => 3);
    await store.reserve('sku', 2);
    await store.release('sku', 2);
    await store.setStock('free', -1);
    await store.reserve('free', 4);
    const expected: StockEvent[] = [
      { type: 'initialised', key: 'sku', stock: 3 },
      { type: 'reserved', key: 'sku', qty: 2, remaining: 1 },
      { type: 'sold-out', key: 'sku', requested: 2, available: 1 },
      { type: 'released', key: 'sku', qty: 2, stock: 3 },
      { type: 'reserved', key: 'free', qty: 4, remaining: -1 },
    ];
    expect(log.events).to.deep.equal(expected);
  });

  it('reports a released event with stock null when the figure is gone', async () => {
    const { store, log } = make();
    await store.release('gone', 1);
    expect(log.events).to.deep.equal([{ type: 'released', key: 'gone', qty: 1, stock: null }]);
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

  it('the middleware reports through the store: reserved, sold-out, released', async () => {
    const { store, log } = make();
    await store.setStock('sku', 1);
    const app = express();
    app.post('/order', reserveStock({ store, key: 'sku' }), (_req, res) => res.status(500).end());
    app.use(jsonErrors);
    expect((await request(app).post('/order')).status).to.equal(500);
    await waitFor(() => log.count('released') === 1, 'the give-back');
    await store.setStock('sku', 0);
    expect((await request(app).post('/order')).status).to.equal(409);
    expect(log.events).to.deep.equal([
      { type: 'reserved', key: 'sku', qty: 1, remaining: 0 },
      { type: 'released', key: 'sku', qty: 1, stock: 1 },
      { type: 'sold-out', key: 'sku', requested: 1, available: 0 },
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
    expect(await store.reserve('sku', 1, () => 2)).to.deep.equal({ status: 'reserved', remaining: 1 });
    expect(await store.reserve('sku', 5)).to.deep.equal({ status: 'insufficient', available: 1 });
    expect(await store.release('sku', 1)).to.equal(2);

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
