/**
 * Carts: every line reserved or none. The store's atomic script (a single
 * Redis) and its line-by-line path for keys across Cluster slots (run here
 * directly on a single Redis: the cluster suite runs it on a real cluster),
 * and the middleware's `items` option over HTTP.
 */
import { expect } from 'chai';
import request from 'supertest';
import { createStockStore, MAX_UNITS, reserveStock, type CartLine, type CartReservation, type StockStore } from '../lib';
import { reserveLineByLine, type LineByLineOptions } from '../lib/store/cart';
import { mergeCart } from '../lib/validation/cart';
import { EventLog } from './helpers/events';
import { express, jsonErrors } from './helpers/app';
import { keysWithPrefix, useSharedRedis } from './helpers/redis';

const shared = useSharedRedis('cart');

function make(options: { holdSeconds?: number } = {}): { store: StockStore; log: EventLog; prefix: string } {
  const log = new EventLog();
  const prefix = shared.prefix();
  return { store: createStockStore({ redis: shared.redis, prefix, onEvent: log.onEvent, ...options }), log, prefix };
}

async function stocks(store: StockStore, keys: string[]): Promise<(number | null)[]> {
  return Promise.all(keys.map((key) => store.getStock(key)));
}

async function openUnits(store: StockStore, keys: string[]): Promise<number> {
  const reports = await Promise.all(keys.map((key) => store.getHolds(key)));
  return reports.reduce((sum, r) => sum + r.units, 0);
}

/**
 * The store's own options of the line-by-line path, through its public API:
 * a figure not loaded yet is loaded by a reservation no figure can fill.
 */
function lineByLine(store: StockStore, loader?: (key: string) => number): LineByLineOptions {
  return {
    loader,
    holdSeconds: undefined,
    available: async (key) => {
      const stock = await store.getStock(key);
      if (stock !== null) return stock;
      const probe = await store.reserve(key, MAX_UNITS, loader);
      if (probe.status === 'insufficient') return probe.available;
      if (probe.status === 'limit') throw new Error('no limit here');
      await store.release(probe.holdId);
      return -1;
    },
    soldOut: () => undefined,
  };
}

type CartReserver = (store: StockStore, lines: CartLine[], loader?: (key: string) => number) => ReturnType<StockStore['reserveCart']>;

const paths: [name: string, reserve: CartReserver][] = [
  ['one atomic script', (store, lines, loader) => store.reserveCart(lines, loader)],
  ['line by line (across Cluster slots)', (store, lines, loader) => reserveLineByLine(store, mergeCart(lines), lineByLine(store, loader))],
];

for (const [name, reserveCart] of paths) {
  describe(`carts: ${name}`, function () {
    this.timeout(30_000);

    it('all lines or none: a short line reserves nothing and is listed with what is available', async () => {
      const { store } = make();
      await store.setStock('a', 5);
      await store.setStock('b', 1);
      await store.setStock('c', 0);
      const refused = await reserveCart(store, [
        { key: 'a', qty: 2 },
        { key: 'b', qty: 2 },
        { key: 'c', qty: 1 },
      ]);
      expect(refused).to.deep.equal({
        status: 'insufficient',
        short: [
          { key: 'b', requested: 2, available: 1 },
          { key: 'c', requested: 1, available: 0 },
        ],
      });
      expect(await stocks(store, ['a', 'b', 'c'])).to.deep.equal([5, 1, 0]);
      expect(await openUnits(store, ['a', 'b', 'c'])).to.equal(0);

      const ok = await reserveCart(store, [
        { key: 'b', qty: 1 },
        { key: 'a', qty: 2 },
      ]);
      if (ok.status !== 'reserved') throw new Error(JSON.stringify(ok));
      // Lines come back in key order, each its own hold.
      expect(ok.lines.map(({ key, qty, remaining }) => ({ key, qty, remaining }))).to.deep.equal([
        { key: 'a', qty: 2, remaining: 3 },
        { key: 'b', qty: 1, remaining: 0 },
      ]);
      expect(await stocks(store, ['a', 'b'])).to.deep.equal([3, 0]);
      expect(await openUnits(store, ['a', 'b'])).to.equal(3);
      for (const line of ok.lines) await store.release(line.holdId);
      expect(await stocks(store, ['a', 'b'])).to.deep.equal([5, 1]);
    });

    it('repeated keys are merged; unlimited lines hold 0 units', async () => {
      const { store } = make();
      await store.setStock('a', 5);
      await store.setStock('free', -1);
      const result = await reserveCart(store, [
        { key: 'a', qty: 1 },
        { key: 'free', qty: 7 },
        { key: 'a', qty: 3 },
      ]);
      if (result.status !== 'reserved') throw new Error(JSON.stringify(result));
      expect(result.lines.map(({ key, qty, remaining }) => ({ key, qty, remaining }))).to.deep.equal([
        { key: 'a', qty: 4, remaining: 1 },
        { key: 'free', qty: 7, remaining: -1 },
      ]);
      expect(await store.getHolds('free')).to.deep.include({ count: 1, units: 0 });
    });

    it('missing figures are loaded once each, under the lock, by concurrent carts', async () => {
      const { store, log } = make();
      const loads: string[] = [];
      const loader = (key: string) => {
        loads.push(key);
        return 10;
      };
      const carts = Array.from({ length: 30 }, () =>
        reserveCart(store, [
          { key: 'x', qty: 1 },
          { key: 'y', qty: 1 },
        ], loader),
      );
      const results = await Promise.all(carts);
      expect(results.filter((r) => r.status === 'reserved')).to.have.length(10);
      expect(loads.sort()).to.deep.equal(['x', 'y']);
      expect(log.of('initialised')).to.have.length(2);
      expect(await stocks(store, ['x', 'y'])).to.deep.equal([0, 0]);
    });

    it('two carts of the same two last units, in opposite orders, 100 times: one completes every time', async () => {
      const { store } = make();
      for (let round = 0; round < 100; round++) {
        await store.setStock('x', 1);
        await store.setStock('y', 1);
        const results = await Promise.all([
          reserveCart(store, [{ key: 'x', qty: 1 }, { key: 'y', qty: 1 }]),
          reserveCart(store, [{ key: 'y', qty: 1 }, { key: 'x', qty: 1 }]),
        ]);
        expect(results.map((r) => r.status).sort(), `round ${round}`).to.deep.equal(['insufficient', 'reserved']);
        expect(await openUnits(store, ['x', 'y'])).to.equal(2);
        for (const r of results) if (r.status === 'reserved') for (const line of r.lines) await store.commit(line.holdId);
      }
    });

    it('many concurrent carts over overlapping items: each all or none, never oversold, units add up', async () => {
      const { store } = make();
      const items = ['p', 'q', 'r', 's'];
      const INITIAL = 20;
      for (const key of items) await store.setStock(key, INITIAL);
      const carts = Array.from({ length: 120 }, (_, i) => {
        const lines = items.filter((_, k) => (i >> k) & 1 || k === i % 4).map((key, k) => ({ key, qty: 1 + ((i + k) % 3) }));
        return { lines, result: reserveCart(store, i % 2 ? lines : [...lines].reverse()) };
      });
      const sold = new Map(items.map((key) => [key, 0]));
      for (const cart of carts) {
        const result = await cart.result;
        if (result.status === 'reserved') {
          expect(result.lines.map((l) => l.key)).to.deep.equal(cart.lines.map((l) => l.key).sort());
          for (const line of result.lines) sold.set(line.key, (sold.get(line.key) ?? 0) + line.qty);
        }
      }
      for (const key of items) {
        expect(sold.get(key), key).to.be.at.most(INITIAL);
        expect(await store.getStock(key), key).to.equal(INITIAL - (sold.get(key) ?? 0));
        expect((await store.getHolds(key)).units, key).to.equal(sold.get(key));
      }
    });
  });
}

describe('carts: the store', function () {
  this.timeout(20_000);

  it('an empty cart, a bad line, too many items: 400, nothing written', async () => {
    const { store, prefix } = make();
    const bad: unknown[] = [
      [],
      'a',
      null,
      [{ key: 'a' }],
      [{ key: '', qty: 1 }],
      [{ key: 'a', qty: 0 }],
      [{ key: 'a', qty: 1.5 }],
      [{ key: 'a', qty: MAX_UNITS + 1 }],
      [null],
      [{ key: 'a', qty: MAX_UNITS }, { key: 'a', qty: 1 }],
      Array.from({ length: 101 }, (_, i) => ({ key: `k${i}`, qty: 1 })),
    ];
    for (const lines of bad) {
      const error = await store.reserveCart(lines as CartLine[]).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, JSON.stringify(lines)?.slice(0, 60)).to.include({ status: 400, code: 'ERR_RESERVE_STOCK_INPUT' });
    }
    expect(await keysWithPrefix(shared.redis, prefix)).to.deep.equal([]);
  });

  it('events: reserved per line, sold-out per short line', async () => {
    const { store, log } = make();
    await store.setStock('a', 2);
    await store.setStock('b', 2);
    const ok = await store.reserveCart([
      { key: 'a', qty: 1 },
      { key: 'b', qty: 2 },
    ]);
    if (ok.status !== 'reserved') throw new Error('not reserved');
    expect(log.of('reserved')).to.deep.equal(
      ok.lines.map(({ key, qty, remaining, holdId }) => ({ type: 'reserved', key, qty, remaining, holdId })),
    );
    await store.reserveCart([
      { key: 'a', qty: 2 },
      { key: 'b', qty: 1 },
    ]);
    expect(log.of('sold-out')).to.deep.equal([
      { type: 'sold-out', key: 'a', requested: 2, available: 1, cached: false },
      { type: 'sold-out', key: 'b', requested: 1, available: 0, cached: false },
    ]);
  });
});

describe('carts: reserveStock({ items }) over HTTP', function () {
  this.timeout(20_000);

  function shop(store: StockStore, handler: express.RequestHandler) {
    const app = express();
    app.use(express.json());
    app.post(
      '/checkout',
      reserveStock({ store, items: (req) => (req.body as { items: CartLine[] }).items, loader: () => 3 }),
      handler,
    );
    app.use(jsonErrors);
    return app;
  }

  it('201: req.reservation is the cart; the 2xx commits every line', async () => {
    const { store } = make();
    let seen: CartReservation | undefined;
    const app = shop(store, (req, res) => {
      seen = req.reservation as CartReservation;
      res.status(201).json({ kind: seen.kind, lines: seen.lines.map((l) => [l.key, l.qty, l.remaining]), state: seen.state });
    });
    const res = await request(app)
      .post('/checkout')
      .send({ items: [{ key: 'b', qty: 1 }, { key: 'a', qty: 2 }, { key: 'b', qty: 1 }] })
      .expect(201);
    expect(res.body).to.deep.equal({ kind: 'cart', lines: [['a', 2, 1], ['b', 2, 1]], state: 'held' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seen?.state).to.equal('committed');
    expect(await openUnits(store, ['a', 'b'])).to.equal(0);
    expect(await stocks(store, ['a', 'b'])).to.deep.equal([1, 1]);
  });

  it('the cart is merged once per request: the store gets the merged cart, which merging hands back as it is', async () => {
    const { store } = make();
    const received: CartLine[][] = [];
    const counting: StockStore = Object.create(store);
    counting.reserveCart = (lines, ...rest) => {
      received.push(lines as CartLine[]);
      return store.reserveCart(lines, ...rest);
    };
    const app = shop(counting, (_req, res) => {
      res.status(201).end();
    });
    await request(app)
      .post('/checkout')
      .send({ items: [{ key: 'b', qty: 1 }, { key: 'a', qty: 2 }, { key: 'b', qty: 1 }] })
      .expect(201);
    const [lines] = received as [CartLine[]];
    expect(lines).to.deep.equal([{ key: 'a', qty: 2 }, { key: 'b', qty: 2 }]);
    expect(Object.isFrozen(lines)).to.equal(true);
    expect(mergeCart(lines)).to.equal(lines);
    // A cart the caller built is merged into a new array, never trusted as it is.
    const raw = [{ key: 'a', qty: 1 }];
    expect(mergeCart(raw)).to.not.equal(raw);
  });

  it("holds: each line's own reservation, which settles that line alone", async () => {
    const { store } = make();
    const app = shop(store, async (req, res) => {
      const cart = req.reservation as CartReservation;
      expect(cart.holds.map((h) => [h.key, h.qty, h.holdId])).to.deep.equal(cart.lines.map((l) => [l.key, l.qty, l.holdId]));
      await cart.holds[0]?.commit();
      await cart.release();
      res.status(402).json({ states: cart.holds.map((h) => h.state), cart: cart.state });
    });
    const res = await request(app).post('/checkout').send({ items: [{ key: 'a', qty: 1 }, { key: 'b', qty: 2 }] }).expect(402);
    expect(res.body).to.deep.equal({ states: ['committed', 'released'], cart: 'mixed' });
    expect(await stocks(store, ['a', 'b'])).to.deep.equal([2, 3]);
  });

  it('409 lists every short line; nothing is held', async () => {
    const { store } = make();
    const app = shop(store, (_req, res) => res.status(201).end());
    const res = await request(app)
      .post('/checkout')
      .send({ items: [{ key: 'a', qty: 2 }, { key: 'b', qty: 4 }, { key: 'c', qty: 5 }] })
      .expect(409);
    expect(res.body.error).to.include({ status: 409, code: 'ERR_RESERVE_STOCK_SOLD_OUT' });
    expect(res.body.error.lines).to.deep.equal([
      { key: 'b', requested: 4, available: 3 },
      { key: 'c', requested: 5, available: 3 },
    ]);
    expect(await stocks(store, ['a', 'b', 'c'])).to.deep.equal([3, 3, 3]);
    expect(await openUnits(store, ['a', 'b', 'c'])).to.equal(0);
  });

  it('a failed order gives every line back once; an empty cart is a 400', async () => {
    const { store } = make();
    const app = shop(store, (_req, res) => res.status(402).json({ error: 'declined' }));
    await request(app).post('/checkout').send({ items: [{ key: 'a', qty: 1 }, { key: 'b', qty: 3 }] }).expect(402);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await stocks(store, ['a', 'b'])).to.deep.equal([3, 3]);
    expect(await openUnits(store, ['a', 'b'])).to.equal(0);
    const empty = await request(app).post('/checkout').send({ items: [] }).expect(400);
    expect(empty.body.error).to.include({ status: 400, code: 'ERR_RESERVE_STOCK_INPUT' });
  });

  it('Idempotency-Key: a retried cart gets the first answer and reserves nothing again', async () => {
    const { store } = make();
    let runs = 0;
    const app = shop(store, (req, res) => {
      runs++;
      res.status(201).json({ holds: (req.reservation as CartReservation).lines.map((l) => l.holdId) });
    });
    const body = { items: [{ key: 'a', qty: 1 }, { key: 'b', qty: 1 }] };
    const first = await request(app).post('/checkout').set('Idempotency-Key', 'cart-1').send(body).expect(201);
    const again = await request(app).post('/checkout').set('Idempotency-Key', 'cart-1').send(body).expect(201);
    expect(again.body).to.deep.equal(first.body);
    expect(again.headers['idempotent-replayed']).to.equal('true');
    expect(runs).to.equal(1);
    expect(await stocks(store, ['a', 'b'])).to.deep.equal([2, 2]);
    await request(app)
      .post('/checkout')
      .set('Idempotency-Key', 'cart-1')
      .send({ items: [{ key: 'a', qty: 2 }] })
      .expect(422);
  });

  it('setup: items with key or qty is a ConfigError', () => {
    const { store } = make();
    expect(() => reserveStock({ store, key: 'a', items: () => [] })).to.throw().with.property('code', 'ERR_RESERVE_STOCK_KEY');
    expect(() => reserveStock({ store, items: 'a' as never })).to.throw().with.property('code', 'ERR_RESERVE_STOCK_OPTION');
  });
});
