/**
 * Input checks (400, nothing deducted, loader untouched), key injection, and
 * setup errors (ConfigError at setup, never per request).
 */
import { expect } from 'chai';
import createError from 'http-errors';
import request from 'supertest';
import {
  ConfigError,
  createStockStore,
  MAX_KEY_LENGTH,
  reserveStock,
  stockKeys,
  type ReserveStockOptions,
  type StockStore,
  type StockStoreOptions,
} from '../lib';
import { express, jsonErrors, listen } from './helpers/app';
import { keysWithPrefix, useSharedRedis } from './helpers/redis';

const shared = useSharedRedis('core-val');

interface Case {
  label: string;
  value: unknown;
}

const BAD_QUANTITIES: Case[] = [
  { label: '0', value: 0 },
  { label: '-1', value: -1 },
  { label: '1.5', value: 1.5 },
  { label: "'2'", value: '2' },
  { label: 'null', value: null },
  { label: 'NaN', value: NaN },
  { label: '1e20', value: 1e20 },
  { label: 'Infinity', value: Infinity },
  { label: 'undefined (the qty function returns nothing)', value: undefined },
  { label: '{}', value: {} },
  { label: 'MAX_SAFE_INTEGER + 1', value: Number.MAX_SAFE_INTEGER + 1 },
  { label: 'a bigint', value: 2n },
];

const BAD_KEYS: Case[] = [
  { label: "''", value: '' },
  { label: '123', value: 123 },
  { label: 'null', value: null },
  { label: 'a 513-character string', value: 'k'.repeat(MAX_KEY_LENGTH + 1) },
  { label: 'missing (undefined)', value: undefined },
  { label: 'an array', value: ['a'] },
];

/** An app whose key and qty come from the test, with a counting loader. */
async function inputShop() {
  const prefix = shared.prefix();
  const store = createStockStore({ redis: shared.redis, prefix });
  await store.setStock('item', 10);
  const state = { key: 'item' as unknown, qty: 1 as unknown, loaderCalls: 0 };
  const app = express();
  app.post(
    '/order',
    reserveStock({
      store,
      key: () => state.key as string,
      qty: () => state.qty as number,
      loader: () => {
        state.loaderCalls++;
        return 10;
      },
    }),
    (_req, res) => res.status(201).end(),
  );
  app.use(jsonErrors);
  const http = await listen(app);
  return { prefix, store, state, http };
}

describe('core: input validation', () => {
  let shop: Awaited<ReturnType<typeof inputShop>>;
  beforeEach(async () => {
    shop = await inputShop();
  });
  afterEach(async () => {
    await shop.http.close();
  });

  describe('a bad quantity is a 400 and changes nothing', () => {
    for (const { label, value } of BAD_QUANTITIES) {
      it(`qty ${label}`, async () => {
        shop.state.qty = value;
        const res = await request(shop.http.url).post('/order');
        expect(res.status).to.equal(400);
        expect(res.body.code).to.equal('ERR_RESERVE_STOCK_INPUT');
        expect(await shop.store.getStock('item')).to.equal(10);
        // Also on a key that holds no figure: the loader is never asked.
        shop.state.key = 'cold';
        expect((await request(shop.http.url).post('/order')).status).to.equal(400);
        expect(shop.state.loaderCalls).to.equal(0);
        expect(await keysWithPrefix(shared.redis, shop.prefix)).to.deep.equal([stockKeys(shop.prefix, 'item').stock]);
      });
    }

    it('store.reserve rejects the same quantities with a 400', async () => {
      for (const { label, value } of BAD_QUANTITIES) {
        const error = await shop.store.reserve('item', value as number, () => 10).then(
          () => null,
          (e: unknown) => e,
        );
        expect(error, label).to.include({ status: 400, code: 'ERR_RESERVE_STOCK_INPUT' });
      }
      expect(await shop.store.getStock('item')).to.equal(10);
    });
  });

  describe('a bad key is a 400 and changes nothing', () => {
    for (const { label, value } of BAD_KEYS) {
      it(`key ${label}`, async () => {
        shop.state.key = value;
        const res = await request(shop.http.url).post('/order');
        expect(res.status).to.equal(400);
        expect(res.body.code).to.equal('ERR_RESERVE_STOCK_INPUT');
        expect(shop.state.loaderCalls).to.equal(0);
        expect(await shop.store.getStock('item')).to.equal(10);
        expect(await keysWithPrefix(shared.redis, shop.prefix)).to.deep.equal([stockKeys(shop.prefix, 'item').stock]);
      });
    }

    it(`a key of exactly ${MAX_KEY_LENGTH} characters is fine`, async () => {
      shop.state.key = 'k'.repeat(MAX_KEY_LENGTH);
      const res = await request(shop.http.url).post('/order');
      expect(res.status).to.equal(201);
      expect(shop.state.loaderCalls).to.equal(1);
      expect(await shop.store.getStock('k'.repeat(MAX_KEY_LENGTH))).to.equal(9);
    });

    it('store methods reject bad keys with a 400', async () => {
      for (const { label, value } of BAD_KEYS) {
        const key = value as string;
        for (const call of [
          () => shop.store.reserve(key, 1, () => 10),
          () => shop.store.release(key, 1),
          () => shop.store.addStock(key, 1),
          () => shop.store.getStock(key),
          () => shop.store.setStock(key, 1),
        ]) {
          const error = await call().then(
            () => null,
            (e: unknown) => e,
          );
          expect(error, label).to.include({ status: 400, code: 'ERR_RESERVE_STOCK_INPUT' });
        }
      }
      expect(await keysWithPrefix(shared.redis, shop.prefix)).to.deep.equal([stockKeys(shop.prefix, 'item').stock]);
    });
  });

  describe('reading the key or quantity fails', () => {
    it('a plain error from the key function is a 400', async () => {
      const store = createStockStore({ redis: shared.redis, prefix: shared.prefix() });
      const app = express();
      app.post(
        '/order',
        reserveStock({
          store,
          key: () => {
            throw new Error('no body');
          },
        }),
        (_req, res) => res.status(201).end(),
      );
      app.use(jsonErrors);
      const res = await request(app).post('/order');
      expect(res.status).to.equal(400);
      expect(res.body.code).to.equal('ERR_RESERVE_STOCK_INPUT');
    });

    it("an http-error from the qty function passes through (async function)", async () => {
      const store = createStockStore({ redis: shared.redis, prefix: shared.prefix() });
      const app = express();
      app.post(
        '/order',
        reserveStock({
          store,
          key: 'item',
          qty: async () => {
            throw createError(401, 'log in first');
          },
        }),
        (_req, res) => res.status(201).end(),
      );
      app.use(jsonErrors);
      const res = await request(app).post('/order');
      expect(res.status).to.equal(401);
      expect(res.body.message).to.equal('log in first');
    });
  });
});

describe('core: key injection', () => {
  const NAMES = ['a', 'a}', '{a}', 'a:lock', '}a', 'a%7D', '%', '{'];

  it('escapes the hash tag: a, a}, {a}, a:lock ... are all distinct items', async () => {
    const prefix = shared.prefix();
    const store = createStockStore({ redis: shared.redis, prefix });
    for (const [i, name] of NAMES.entries()) await store.setStock(name, 100 + i);
    expect(await keysWithPrefix(shared.redis, prefix)).to.have.length(NAMES.length);
    for (const [i, name] of NAMES.entries()) expect(await store.getStock(name), name).to.equal(100 + i);

    expect(await store.reserve('a}', 5)).to.deep.equal({ status: 'reserved', remaining: 96 });
    expect(await store.reserve('a:lock', 2)).to.deep.equal({ status: 'reserved', remaining: 101 });
    for (const [i, name] of NAMES.entries()) {
      const expected = 100 + i - (name === 'a}' ? 5 : 0) - (name === 'a:lock' ? 2 : 0);
      expect(await store.getStock(name), name).to.equal(expected);
    }
  });

  it('every name yields one hash tag, and no stock key equals another item\'s lock key', () => {
    const all = NAMES.flatMap((n) => Object.values(stockKeys('p:', n)));
    expect(new Set(all).size).to.equal(NAMES.length * 2);
    for (const name of NAMES) {
      const { stock, lock } = stockKeys('p:', name);
      expect(stock.match(/[{}]/g), name).to.deep.equal(['{', '}']);
      expect(lock).to.equal(`${stock}:lock`);
    }
    expect(stockKeys('p:', 'a}')).to.deep.equal({ stock: 'p:{a%7D}', lock: 'p:{a%7D}:lock' });
    expect(stockKeys('p:', '{a}').stock).to.equal('p:{%7Ba%7D}');
    expect(stockKeys('p:', 'a%7D').stock).to.equal('p:{a%257D}');
  });

  it("the lock of item a does not block item 'a:lock'", async () => {
    const prefix = shared.prefix();
    const store = createStockStore({ redis: shared.redis, prefix, initTimeoutMs: 300 });
    await shared.redis.set(stockKeys(prefix, 'a').lock, 'other', 'PX', 30_000);
    expect(await store.reserve('a:lock', 1, () => 4)).to.deep.equal({ status: 'reserved', remaining: 3 });
    expect(await shared.redis.get(stockKeys(prefix, 'a').lock)).to.equal('other');
    expect(await store.getStock('a')).to.equal(null);
  });
});

describe('core: setup errors', () => {
  const expectConfigError = (fn: () => unknown, code: string) => {
    let thrown: unknown;
    try {
      fn();
    } catch (error) {
      thrown = error;
    }
    expect(thrown, 'nothing was thrown').to.be.instanceOf(ConfigError);
    expect(thrown).to.be.instanceOf(TypeError);
    expect(thrown).to.include({ code, name: 'ConfigError' });
    expect((thrown as Error).message).to.match(/^reserve-stock: /);
  };
  const store = (): StockStore => createStockStore({ redis: shared.redis, prefix: 'unused:' });
  const mw = (options: unknown) => () => reserveStock(options as ReserveStockOptions);
  const st = (options: unknown) => () => createStockStore(options as StockStoreOptions);

  it('reserveStock without store or redis: ERR_RESERVE_STOCK_STORE', () => {
    expectConfigError(mw({ key: 'a' }), 'ERR_RESERVE_STOCK_STORE');
  });

  it('reserveStock with both store and redis: ERR_RESERVE_STOCK_STORE', () => {
    expectConfigError(mw({ store: store(), redis: shared.redis, key: 'a' }), 'ERR_RESERVE_STOCK_STORE');
  });

  it('reserveStock with something that is not a store or not a client: ERR_RESERVE_STOCK_STORE', () => {
    expectConfigError(mw({ store: {}, key: 'a' }), 'ERR_RESERVE_STOCK_STORE');
    expectConfigError(mw({ redis: {}, key: 'a' }), 'ERR_RESERVE_STOCK_STORE');
  });

  it('reserveStock without a key: ERR_RESERVE_STOCK_KEY', () => {
    expectConfigError(mw({ store: store() }), 'ERR_RESERVE_STOCK_KEY');
  });

  it('reserveStock with bad options: ERR_RESERVE_STOCK_OPTION', () => {
    expectConfigError(mw(undefined), 'ERR_RESERVE_STOCK_OPTION');
    expectConfigError(mw(null), 'ERR_RESERVE_STOCK_OPTION');
    expectConfigError(mw({ store: store(), key: 'a', loader: 10 }), 'ERR_RESERVE_STOCK_OPTION');
    expectConfigError(mw({ store: store(), key: 'a', releaseWhen: 'always' }), 'ERR_RESERVE_STOCK_OPTION');
    expectConfigError(mw({ redis: shared.redis, key: 'a', onEvent: 'log' }), 'ERR_RESERVE_STOCK_OPTION');
    // onEvent belongs to the store when a store is given.
    expectConfigError(mw({ store: store(), key: 'a', onEvent: () => {} }), 'ERR_RESERVE_STOCK_OPTION');
  });

  it('createStockStore without an ioredis client: ERR_RESERVE_STOCK_STORE', () => {
    expectConfigError(st(undefined), 'ERR_RESERVE_STOCK_STORE');
    expectConfigError(st({}), 'ERR_RESERVE_STOCK_STORE');
    expectConfigError(st({ redis: 'redis://127.0.0.1' }), 'ERR_RESERVE_STOCK_STORE');
    expectConfigError(st({ redis: { get() {} } }), 'ERR_RESERVE_STOCK_STORE');
  });

  const BAD_STORE_OPTIONS: [string, Record<string, unknown>][] = [
    ['negative ttlSeconds', { ttlSeconds: -1 }],
    ['fractional ttlSeconds', { ttlSeconds: 1.5 }],
    ['string ttlSeconds', { ttlSeconds: '60' }],
    ['timeoutMs 0', { timeoutMs: 0 }],
    ['NaN timeoutMs', { timeoutMs: NaN }],
    ['loaderTimeoutMs 0', { loaderTimeoutMs: 0 }],
    ['lockTtlMs == loaderTimeoutMs', { lockTtlMs: 1000, loaderTimeoutMs: 1000 }],
    ['lockTtlMs < loaderTimeoutMs', { lockTtlMs: 500, loaderTimeoutMs: 1000 }],
    ['lockTtlMs below the default loaderTimeoutMs', { lockTtlMs: 1500 }],
    ['initTimeoutMs -5', { initTimeoutMs: -5 }],
    ['onEvent not a function', { onEvent: 'console.log' }],
    ['prefix not a string', { prefix: 5 }],
  ];
  for (const [label, options] of BAD_STORE_OPTIONS) {
    it(`createStockStore with ${label}: ERR_RESERVE_STOCK_OPTION`, () => {
      expectConfigError(st({ redis: shared.redis, ...options }), 'ERR_RESERVE_STOCK_OPTION');
    });
  }

  it('good options are accepted (ttlSeconds 0, lockTtlMs just above loaderTimeoutMs)', () => {
    expect(() => createStockStore({ redis: shared.redis, ttlSeconds: 0, loaderTimeoutMs: 1000, lockTtlMs: 1001 })).not.to
      .throw();
    expect(() => reserveStock({ redis: shared.redis, key: (req) => String(req.query.sku), onEvent: () => {} })).not.to
      .throw();
  });
});
