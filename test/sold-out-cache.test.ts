/**
 * Sold-out answers from memory (`soldOutCacheMs`): only refusals, only for
 * more than the figure Redis last gave, never after their time, forgotten
 * at once when this store gives units back or writes the figure. Redis
 * calls are counted at the client (every command and script goes through
 * its sendCommand).
 */
import { expect } from 'chai';
import request from 'supertest';
import { ConfigError, createStockStore, reserveStock, type StockStoreOptions } from '../lib';
import { SOLD_OUT_CACHE_ITEMS, SoldOutCache } from '../lib/store/sold-out-cache';
import { express } from './helpers/app';
import { EventLog } from './helpers/events';
import { held, sleepPast } from './helpers/holds';
import { useSharedRedis, type AnyRedis } from './helpers/redis';
import { watchSentCommands } from './helpers/sent-commands';
import { sleep } from './helpers/wait';

const shared = useSharedRedis('soldout');

/** Counts the commands `redis` sends from now on. */
function countCommands(redis: AnyRedis): { readonly sent: number } {
  const counter = { sent: 0 };
  watchSentCommands(redis, () => counter.sent++);
  return counter;
}

/**
 * Runs `body` with Date.now held still (the store's memory reads it at each
 * call), so that what it learns stays fresh and is not yet due for renewal
 * (see ./lib/store/sold-out-cache.ts) however slow the machine: the memory's
 * answers can then be counted exactly. Timers run on; only the wall clock stops.
 */
async function withClockHeld<T>(body: () => Promise<T>): Promise<T> {
  const real = Date.now;
  const held = real();
  Date.now = () => held;
  try {
    return await body();
  } finally {
    Date.now = real;
  }
}

/** A store on a client of its own, whose commands are counted. */
function make(options: Partial<StockStoreOptions> = {}) {
  const redis = shared.client();
  const log = new EventLog();
  const prefix = shared.prefix();
  const store = createStockStore({ redis, prefix, onEvent: log.onEvent, ...options });
  return { store, log, prefix, redis, calls: countCommands(redis) };
}

describe('sold-out answers from memory: the cache itself', () => {
  let now = 0;
  const cache = () => new SoldOutCache(100, () => now);
  beforeEach(() => {
    now = 1_000;
  });

  it('refuses only requests for more than the remembered figure', () => {
    const c = cache();
    c.learn('a', 2, c.mark());
    expect(c.refusal('a', 3)).to.equal(2);
    expect(c.refusal('a', 2)).to.equal(undefined);
    expect(c.refusal('a', 1)).to.equal(undefined);
    expect(c.refusal('b', 1)).to.equal(undefined);
  });

  it('never answers after its time', () => {
    const c = cache();
    c.learn('a', 0, c.mark());
    now += 99;
    expect(c.refusal('a', 1), 'the probe that renews it (below)').to.equal(undefined);
    expect(c.refusal('a', 1)).to.equal(0);
    now += 1;
    expect(c.refusal('a', 1)).to.equal(undefined);
  });

  it('a grant sets the remembered figure to what Redis left (an unlimited one forgets it), and teaches nothing of an item it does not remember', () => {
    const c = cache();
    c.learn('a', 3, c.mark());
    c.granted('a', 1);
    expect(c.refusal('a', 2)).to.equal(1);
    c.granted('a', 2);
    expect(c.refusal('a', 3)).to.equal(2);
    c.granted('a', -1);
    expect(c.refusal('a', 3)).to.equal(undefined);
    c.granted('b', 0);
    expect(c.refusal('b', 1)).to.equal(undefined);
  });

  it('after the first quarter of its life one request goes on to Redis to renew it, the others are still refused, until it runs out', () => {
    const c = cache();
    c.learn('a', 0, c.mark());
    now += 24;
    expect(c.refusal('a', 1)).to.equal(0);
    now += 1;
    expect(c.refusal('a', 1), 'the probe').to.equal(undefined);
    expect(c.refusal('a', 1)).to.equal(0);
    now += 74;
    expect(c.refusal('a', 1)).to.equal(0);
    // The probe's refusal renews it: another 100 ms.
    c.learn('a', 0, c.mark());
    now += 99;
    expect(c.refusal('a', 1), 'the next probe').to.equal(undefined);
    expect(c.refusal('a', 1)).to.equal(0);
    now += 1;
    expect(c.refusal('a', 1), 'run out: no answer from memory').to.equal(undefined);
    expect(c.refusal('a', 1)).to.equal(undefined);
  });

  it('a fresh refusal renews the time; forget drops the item at once; 0 ms remembers nothing', () => {
    const c = cache();
    c.learn('a', 1, c.mark());
    now += 80;
    c.learn('a', 0, c.mark());
    now += 20;
    expect(c.refusal('a', 1)).to.equal(0);
    c.forget('a');
    expect(c.refusal('a', 1)).to.equal(undefined);
    const off = new SoldOutCache(0, () => now);
    off.learn('a', 0, off.mark());
    expect(off.refusal('a', 1)).to.equal(undefined);
  });

  it('does not learn a refusal sent before a forget: its figure may predate the units given back', () => {
    const c = cache();
    const sent = c.mark();
    c.forget('a');
    c.learn('a', 0, sent);
    expect(c.refusal('a', 1)).to.equal(undefined);
    // Of any item: the count is shared, so a forget of another item costs a lesson, never a wrong answer.
    const again = c.mark();
    c.forget('b');
    c.learn('a', 0, again);
    expect(c.refusal('a', 1)).to.equal(undefined);
    c.learn('a', 0, c.mark());
    expect(c.refusal('a', 1)).to.equal(0);
  });

  it(`keeps at most ${SOLD_OUT_CACHE_ITEMS} items, the oldest going first`, () => {
    const c = cache();
    for (let i = 0; i <= SOLD_OUT_CACHE_ITEMS; i++) c.learn(`sku-${i}`, 0, c.mark());
    expect(c.refusal('sku-0', 1)).to.equal(undefined);
    expect(c.refusal('sku-1', 1)).to.equal(0);
    expect(c.refusal(`sku-${SOLD_OUT_CACHE_ITEMS}`, 1)).to.equal(0);
  });
});

describe('sold-out answers from memory: the store', function () {
  this.timeout(20_000);

  it('after Redis refuses, a request for more is refused from memory with the same answer, no Redis call, and an event that says so', () =>
    withClockHeld(async () => {
      const { store, log, calls } = make({ soldOutCacheMs: 250 });
      await store.setStock('tee', 2);
      expect(await store.reserve('tee', 3)).to.deep.equal({ status: 'insufficient', available: 2 });
      const before = calls.sent;
      for (let i = 0; i < 20; i++) expect(await store.reserve('tee', 3)).to.deep.equal({ status: 'insufficient', available: 2 });
      expect(calls.sent).to.equal(before);
      expect(log.of('sold-out').map((e) => e.cached)).to.deep.equal([false, ...Array<boolean>(20).fill(true)]);
    }));

  it('a request for no more than the remembered figure still reaches Redis, and is granted; the next refusal from memory says what is left', () =>
    withClockHeld(async () => {
      const { store, calls } = make({ soldOutCacheMs: 250 });
      await store.setStock('tee', 3);
      await store.reserve('tee', 4);
      const before = calls.sent;
      held(await store.reserve('tee', 2));
      expect(calls.sent).to.be.above(before);
      const after = calls.sent;
      expect(await store.reserve('tee', 2)).to.deep.equal({ status: 'insufficient', available: 1 });
      await store.reserveCart([{ key: 'tee', qty: 1 }]);
      expect(await store.reserve('tee', 2)).to.deep.equal({ status: 'insufficient', available: 0 });
      expect(calls.sent).to.equal(after + 1);
      expect(await store.getStock('tee')).to.equal(0);
    }));

  it('a grant of unlimited stock (set so elsewhere) forgets the remembered figure: the next request for more reaches Redis', () =>
    withClockHeld(async () => {
      const { store, prefix } = make({ soldOutCacheMs: 250 });
      const elsewhere = createStockStore({ redis: shared.redis, prefix });
      await store.setStock('tee', 2);
      expect((await store.reserve('tee', 3)).status).to.equal('insufficient');
      await elsewhere.setStock('tee', -1);
      expect((await store.reserve('tee', 1)).status).to.equal('unlimited');
      expect((await store.reserve('tee', 3)).status).to.equal('unlimited');
    }));

  it('never answers after its time: a unit given back elsewhere is sold once the time is out', async () => {
    const { store, prefix } = make({ soldOutCacheMs: 100 });
    const elsewhere = createStockStore({ redis: shared.redis, prefix });
    await store.setStock('tee', 1);
    const hold = held(await elsewhere.reserve('tee', 1));
    expect((await store.reserve('tee', 1)).status).to.equal('insufficient');
    await elsewhere.release(hold.holdId);
    await sleep(120);
    held(await store.reserve('tee', 1));
  });

  it('a give-back through the same store is seen by the next request at once: release, expiry, restock, setStock, setLimit, reconcile', async () => {
    const { store, log } = make({ soldOutCacheMs: 250, holdSeconds: 1 });
    const soldOutNow = async () => expect((await store.reserve('tee', 1)).status).to.equal('insufficient');

    await store.setStock('tee', 1);
    const first = held(await store.reserve('tee', 1));
    await soldOutNow();
    await store.release(first.holdId);
    const second = held(await store.reserve('tee', 1));

    await soldOutNow();
    await sleepPast(second.expiresAt);
    // The expiry is found by the next script that touches the item: a read of the figure.
    expect(await store.getStock('tee')).to.equal(1);
    const third = held(await store.reserve('tee', 1));
    await store.commit(third.holdId);

    await soldOutNow();
    await store.addStock('tee', 1);
    await store.commit(held(await store.reserve('tee', 1)).holdId);

    await soldOutNow();
    await store.setStock('tee', 1);
    await store.commit(held(await store.reserve('tee', 1)).holdId);

    await soldOutNow();
    await store.setLimit('tee', 5);
    await soldOutNow(); // a new limit brings no units: Redis says so again
    await store.reconcile('tee', 1, { fix: true });
    held(await store.reserve('tee', 1));
    expect(log.of('sold-out').every((e) => e.cached === false)).to.equal(true);
  });

  it('a request with its own hold id always asks Redis: it may be the retry of a reservation Redis granted', async () => {
    const { store, calls } = make({ soldOutCacheMs: 250 });
    await store.setStock('tee', 1);
    const holdId = store.holdId('tee', 'order-1');
    held(await store.reserve('tee', 1, undefined, { holdId }));
    expect((await store.reserve('tee', 1)).status).to.equal('insufficient');
    const before = calls.sent;
    const retried = held(await store.reserve('tee', 1, undefined, { holdId }));
    expect(retried.holdId).to.equal(holdId);
    expect(calls.sent).to.be.above(before);
  });

  it('learns nothing from a limit refusal, and a bad limit or quantity is still a 400 when memory knows the answer', async () => {
    const { store, calls } = make({ soldOutCacheMs: 250 });
    await store.setStock('tee', 5);
    held(await store.reserve('tee', 1, undefined, { customer: 'ann', limit: 1 }));
    expect((await store.reserve('tee', 1, undefined, { customer: 'ann', limit: 1 })).status).to.equal('limit');
    const before = calls.sent;
    held(await store.reserve('tee', 1, undefined, { customer: 'bob', limit: 1 }));
    expect(calls.sent).to.be.above(before);

    expect((await store.reserve('tee', 10)).status).to.equal('insufficient');
    for (const bad of [
      () => store.reserve('tee', 10, undefined, { customer: 'ann', limit: -1 }),
      () => store.reserve('tee', 0),
      () => store.reserve('tee', 10, undefined, { customer: '' }),
    ]) {
      const error = await bad().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, 'a 400').to.have.property('status', 400);
    }
  });

  it('carts use it per line: a line remembered short refuses the cart from memory; a bad limit is still a 400', () =>
    withClockHeld(async () => {
      const { store, log, calls } = make({ soldOutCacheMs: 250 });
      await store.setStock('a', 5);
      await store.setStock('b', 1);
      const refused = await store.reserveCart([
        { key: 'a', qty: 1 },
        { key: 'b', qty: 2 },
      ]);
      expect(refused).to.deep.equal({ status: 'insufficient', short: [{ key: 'b', requested: 2, available: 1 }] });
      const before = calls.sent;
      expect(await store.reserveCart([{ key: 'b', qty: 2 }])).to.deep.equal({ status: 'insufficient', short: [{ key: 'b', requested: 2, available: 1 }] });
      expect((await store.reserve('b', 3)).status).to.equal('insufficient');
      expect(calls.sent).to.equal(before);
      expect(log.of('sold-out').map((e) => [e.key, e.cached])).to.deep.equal([
        ['b', false],
        ['b', true],
        ['b', true],
      ]);
      const bad = await store.reserveCart([{ key: 'b', qty: 2 }], undefined, { customer: 'ann', limit: -1 }).catch((e: unknown) => e);
      expect(bad).to.have.property('status', 400);
      // A cart that fits what is remembered goes to Redis, and is granted.
      const granted = await store.reserveCart([
        { key: 'a', qty: 5 },
        { key: 'b', qty: 1 },
      ]);
      expect(granted.status).to.equal('reserved');
      expect(await store.getStock('a')).to.equal(0);
    }));

  it('soldOutCacheMs 0: every request reaches Redis', async () => {
    const { store, calls } = make({ soldOutCacheMs: 0 });
    await store.setStock('tee', 0);
    await store.reserve('tee', 1);
    const before = calls.sent;
    await store.reserve('tee', 1);
    expect(calls.sent).to.be.above(before);
  });

  it('a misconfigured soldOutCacheMs throws at setup with a stable code', () => {
    for (const soldOutCacheMs of [-1, 251, 1.5, '100']) {
      expect(() => createStockStore({ redis: shared.redis, soldOutCacheMs } as unknown as StockStoreOptions))
        .to.throw(ConfigError, /soldOutCacheMs/)
        .with.property('code', 'ERR_RESERVE_STOCK_OPTION');
    }
  });

  it('through the middleware: the remembered 409 has the same JSON body as the one from Redis', () =>
    withClockHeld(async () => {
      const { store, calls } = make();
      await store.setStock('tee', 1);
      const app = express();
      app.post('/orders', express.json(), reserveStock({ store, key: (req) => req.body.sku, qty: (req) => req.body.qty }), (_req, res) => {
        res.status(201).json({ ok: true });
      });
      const fromRedis = await request(app).post('/orders').send({ sku: 'tee', qty: 2 }).expect(409);
      const before = calls.sent;
      const fromMemory = await request(app).post('/orders').send({ sku: 'tee', qty: 2 }).expect(409);
      expect(calls.sent).to.equal(before);
      expect(fromMemory.body).to.deep.equal(fromRedis.body);
    }));
});
