/**
 * The loader: its http-errors pass through; any other failure, a hang or a
 * bad figure writes nothing, frees the lock and answers 503; -1 = unlimited.
 */
import { expect } from 'chai';
import createError, { type HttpError } from 'http-errors';
import request from 'supertest';
import { createStockStore, MAX_UNITS, reserveStock, stockKeys, type Reservation, type StockStore } from '../lib';
import { express, jsonErrors } from './helpers/app';
import { EventLog } from './helpers/events';
import { withoutHold } from './helpers/holds';
import { keysWithPrefix, useSharedRedis } from './helpers/redis';
import { sleep, waitFor } from './helpers/wait';

const shared = useSharedRedis('core-load');

interface Ctx {
  prefix: string;
  store: StockStore;
  log: EventLog;
}

function make(options: { loaderTimeoutMs?: number } = {}): Ctx {
  const prefix = shared.prefix();
  const log = new EventLog();
  const store = createStockStore({ redis: shared.redis, prefix, onEvent: log.onEvent, ...options });
  return { prefix, store, log };
}

async function rejection(promise: Promise<unknown>): Promise<HttpError> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (error: unknown) => error as HttpError,
  );
}

/** Nothing under the prefix, the lock included (its release runs just after the answer). */
async function expectNothingWritten(ctx: Ctx): Promise<void> {
  await waitFor(
    async () => (await keysWithPrefix(shared.redis, ctx.prefix)).length === 0,
    'the lock to be freed',
    2000,
  );
  expect(await ctx.store.getStock('sku')).to.equal(null);
}

describe('core: loader', () => {
  it('an http-error (404) passes through unchanged: nothing written, lock freed', async () => {
    const ctx = make();
    const notFound = createError(404, 'No such product');
    let lockHeld = 0;
    const error = await rejection(
      ctx.store.reserve('sku', 1, async () => {
        lockHeld = await shared.redis.exists(stockKeys(ctx.prefix, 'sku').lock);
        throw notFound;
      }),
    );
    expect(error).to.equal(notFound);
    expect(lockHeld, 'the lock was held while loading').to.equal(1);
    await expectNothingWritten(ctx);
    expect(ctx.log.count('initialised')).to.equal(0);
  });

  it('an http-error (404) thrown synchronously reaches the client as a 404 over HTTP', async () => {
    const ctx = make();
    const app = express();
    app.post(
      '/order',
      reserveStock({
        store: ctx.store,
        key: 'sku',
        loader: () => {
          throw createError(404, 'No such product', { code: 'UNKNOWN_SKU' });
        },
      }),
      (_req, res) => res.status(201).end(),
    );
    app.use(jsonErrors);
    const res = await request(app).post('/order');
    expect(res.status).to.equal(404);
    expect(res.body).to.deep.equal({ error: { status: 404, code: 'UNKNOWN_SKU', message: 'No such product' } });
    await expectNothingWritten(ctx);
  });

  it('a plain Error is a 503 carrying it as the cause: nothing written, lock freed, reported', async () => {
    const ctx = make();
    const dbDown = new Error('ECONNREFUSED db:5432');
    const error = await rejection(
      ctx.store.reserve('sku', 1, () => {
        throw dbDown;
      }),
    );
    expect(error).to.include({ status: 503, code: 'ERR_RESERVE_STOCK_UNAVAILABLE' });
    expect(error.cause).to.equal(dbDown);
    await expectNothingWritten(ctx);
    expect(ctx.log.of('error').map((e) => [e.operation, e.key])).to.deep.equal([
      ['load', 'sku'],
      ['reserve', 'sku'],
    ]);
    expect(ctx.log.of('error')[0]?.error).to.equal(dbDown);
  });

  it('a rejection with a non-Error value is a 503', async () => {
    const ctx = make();
    const error = await rejection(ctx.store.reserve('sku', 1, () => Promise.reject('db gone')));
    expect(error).to.include({ status: 503, code: 'ERR_RESERVE_STOCK_UNAVAILABLE' });
    await expectNothingWritten(ctx);
  });

  for (const [label, value] of [
    ["'abc'", 'abc'],
    ['1.5', 1.5],
    ['-2', -2],
    ['null', null],
    ['undefined', undefined],
    ['NaN', NaN],
    ["'5' (a string)", '5'],
    ['Infinity', Infinity],
    ['MAX_UNITS + 1 (2^31)', MAX_UNITS + 1],
    ['2 ** 53', 2 ** 53],
  ] as [string, unknown][]) {
    it(`a result of ${label} is a 503: nothing written, lock freed`, async () => {
      const ctx = make();
      const error = await rejection(ctx.store.reserve('sku', 1, async () => value as number));
      expect(error).to.include({ status: 503, code: 'ERR_RESERVE_STOCK_UNAVAILABLE' });
      await expectNothingWritten(ctx);
      expect(ctx.log.of('error').map((e) => e.operation)).to.deep.equal(['load', 'reserve']);
    });
  }

  it('a loader that hangs is a 503 after loaderTimeoutMs; nothing written then or later', async () => {
    const ctx = make({ loaderTimeoutMs: 300 });
    const started = Date.now();
    let resolveLate!: (n: number) => void;
    const error = await rejection(
      ctx.store.reserve('sku', 1, () => new Promise<number>((resolve) => (resolveLate = resolve))),
    );
    const elapsed = Date.now() - started;
    expect(error).to.include({ status: 503, code: 'ERR_RESERVE_STOCK_UNAVAILABLE' });
    expect(elapsed).to.be.at.least(290);
    expect(elapsed).to.be.below(300 + 1500);
    await expectNothingWritten(ctx);
    // The loader answers after all: the figure is still not written.
    resolveLate(50);
    await sleep(100);
    await expectNothingWritten(ctx);
    // The lock was freed, so the next caller loads at once.
    expect(withoutHold(await ctx.store.reserve('sku', 1, () => 8), 'sku')).to.deep.equal({ status: 'reserved', remaining: 7 });
  });

  it('a loader that returns -1 makes the item unlimited, loaded once', async () => {
    const ctx = make();
    let calls = 0;
    const loader = () => {
      calls++;
      return -1;
    };
    expect(withoutHold(await ctx.store.reserve('sku', 5, loader), 'sku')).to.deep.equal({ status: 'unlimited' });
    expect(withoutHold(await ctx.store.reserve('sku', 1_000_000, loader), 'sku')).to.deep.equal({ status: 'unlimited' });
    // Unlimited stock is held as holds of 0 units.
    expect(await ctx.store.getHolds('sku')).to.deep.include({ count: 2, units: 0 });
    expect(calls).to.equal(1);
    expect(await ctx.store.getStock('sku')).to.equal(-1);
    expect(ctx.log.of('initialised')).to.deep.equal([{ type: 'initialised', key: 'sku', stock: -1 }]);
  });

  it('a loader that returns 0 writes 0 and the reservation is sold out', async () => {
    const ctx = make();
    expect(await ctx.store.reserve('sku', 1, () => 0)).to.deep.equal({ status: 'insufficient', available: 0 });
    expect(await ctx.store.getStock('sku')).to.equal(0);
  });

  it('a first order larger than the loaded stock: figure written, order refused', async () => {
    const ctx = make();
    expect(await ctx.store.reserve('sku', 6, () => 5)).to.deep.equal({ status: 'insufficient', available: 5 });
    expect(await ctx.store.getStock('sku')).to.equal(5);
  });

  it('no loader and no figure is a 503, nothing written', async () => {
    const ctx = make();
    const error = await rejection(ctx.store.reserve('sku', 1));
    expect(error).to.include({ status: 503, code: 'ERR_RESERVE_STOCK_UNAVAILABLE' });
    await expectNothingWritten(ctx);
  });

  it('the middleware passes the key and the request to the loader', async () => {
    const ctx = make();
    const seen: unknown[] = [];
    const app = express();
    app.post(
      '/order/:sku',
      reserveStock({
        store: ctx.store,
        key: (req) => String(req.params.sku),
        loader: (key, req) => {
          seen.push([key, req.params.sku, req.get('x-shop')]);
          return 3;
        },
      }),
      (req, res) => res.status(201).json({ remaining: (req.reservation as Reservation).remaining }),
    );
    app.use(jsonErrors);
    const res = await request(app).post('/order/sku').set('x-shop', 'north');
    expect(res.status).to.equal(201);
    expect(res.body).to.deep.equal({ remaining: 2 });
    expect(seen).to.deep.equal([['sku', 'sku', 'north']]);
    expect(await shared.redis.exists(stockKeys(ctx.prefix, 'sku').stock)).to.equal(1);
  });
});
