/**
 * Carts whose items live on different masters, where no one script can take
 * every line: the store reserves line by line in key order and gives back
 * what it held when a line is short. All lines or none, no partial cart left
 * reserved, and two carts over the same items never block or starve each
 * other, whatever order their lines come in.
 */
import { expect } from 'chai';
import request from 'supertest';
import { createStockStore, reserveStock, type CartLine, type CartResult, type StockStore } from '../../lib';
import { express, jsonErrors } from '../helpers/app';
import { useSharedRedis } from '../helpers/redis';
import { waitFor } from '../helpers/wait';
import { itemsOnDistinctMasters } from './fixture';

const shared = useSharedRedis('cluster-cart');

async function heldUnits(store: StockStore, keys: string[]): Promise<number[]> {
  return Promise.all(keys.map(async (key) => (await store.getHolds(key)).units));
}

async function stocks(store: StockStore, keys: string[]): Promise<(number | null)[]> {
  return Promise.all(keys.map((key) => store.getStock(key)));
}

const reservedLines = (result: CartResult) => (result.status === 'reserved' ? result.lines.length : 0);

describe('Redis Cluster: carts across slots', function () {
  this.timeout(60_000);

  it('a cart over three masters with one short line reserves nothing; a cart that fits reserves every line', async () => {
    const prefix = shared.prefix();
    const store = createStockStore({ redis: shared.redis, prefix });
    const [a, b, c] = (await itemsOnDistinctMasters(prefix, 3, 'item')) as [string, string, string];
    for (const [key, stock] of [[a, 5], [b, 5], [c, 1]] as const) await store.setStock(key, stock);

    const short = await store.reserveCart([{ key: a, qty: 2 }, { key: b, qty: 2 }, { key: c, qty: 2 }]);
    expect(short).to.deep.equal({ status: 'insufficient', short: [{ key: c, requested: 2, available: 1 }] });
    await waitFor(async () => (await heldUnits(store, [a, b, c])).every((u) => u === 0), 'the held lines to go back');
    expect(await stocks(store, [a, b, c])).to.deep.equal([5, 5, 1]);

    const fits = await store.reserveCart([{ key: c, qty: 1 }, { key: a, qty: 2 }, { key: b, qty: 2 }]);
    expect(reservedLines(fits)).to.equal(3);
    expect(await stocks(store, [a, b, c])).to.deep.equal([3, 3, 0]);
    expect(await heldUnits(store, [a, b, c])).to.deep.equal([2, 2, 1]);
  });

  it('two carts of the same two items in opposite orders, 100 rounds at once: exactly one wins each round', async () => {
    const prefix = shared.prefix();
    const store = createStockStore({ redis: shared.redis, prefix });
    const rounds = await Promise.all(
      Array.from({ length: 100 }, async (_, round) => {
        const [x, y] = (await itemsOnDistinctMasters(prefix, 2, `r${round}`)) as [string, string];
        await store.setStock(x, 1);
        await store.setStock(y, 1);
        const carts: CartLine[][] = [
          [{ key: x, qty: 1 }, { key: y, qty: 1 }],
          [{ key: y, qty: 1 }, { key: x, qty: 1 }],
        ];
        const results = await Promise.all(carts.map((cart) => store.reserveCart(cart)));
        return { keys: [x, y], results };
      }),
    );
    for (const { keys, results } of rounds) {
      // Both carts take x first (key order): one of them gets it and then y; the other holds nothing.
      expect(results.map((r) => r.status).sort(), keys.join(' ')).to.deep.equal(['insufficient', 'reserved']);
      expect(await heldUnits(store, keys)).to.deep.equal([1, 1]);
      expect(await stocks(store, keys)).to.deep.equal([0, 0]);
    }
  });

  it('300 concurrent carts over HTTP across three masters: all lines or none, never oversold, nothing left held', async () => {
    const prefix = shared.prefix();
    const store = createStockStore({ redis: shared.redis, prefix });
    const items = await itemsOnDistinctMasters(prefix, 3, 'sale');
    const STOCK = 60;
    for (const key of items) await store.setStock(key, STOCK);
    const sold = new Map<string, number>(items.map((key) => [key, 0]));
    const app = express();
    app.use(express.json());
    app.post('/checkout', reserveStock({ store, items: (req) => (req.body as { items: CartLine[] }).items }), (req, res) => {
      const { items: lines, fail } = req.body as { items: CartLine[]; fail: boolean };
      if (fail) {
        res.status(402).end();
        return;
      }
      for (const { key, qty } of lines) sold.set(key, (sold.get(key) ?? 0) + qty);
      res.status(201).end();
    });
    app.use(jsonErrors);

    const statuses = await Promise.all(
      Array.from({ length: 300 }, async (_, i) => {
        // Two or three lines, in varying order; every fifth checkout fails after reserving.
        const lines = [0, 1, 2].map((j) => ({ key: items[(i + j) % 3] as string, qty: 1 + ((i + j) % 2) })).slice(0, 2 + (i % 2));
        return (await request(app).post('/checkout').send({ items: lines, fail: i % 5 === 4 })).status;
      }),
    );

    expect(statuses.filter((s) => ![201, 402, 409].includes(s))).to.deep.equal([]);
    expect(statuses.filter((s) => s === 201).length).to.be.above(0);
    await waitFor(async () => (await heldUnits(store, items)).every((u) => u === 0), 'every hold to be committed or given back');
    for (const key of items) {
      const left = (await store.getStock(key)) as number;
      expect(left, key).to.be.at.least(0);
      expect(left + (sold.get(key) as number), key).to.equal(STOCK);
    }
  });
});
