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
  MAX_UNITS,
  reserveStock,
  stockKeys,
  type ReserveStockOptions,
  type StockStore,
  type StockStoreOptions,
} from '../lib';
import { express, jsonErrors, listen } from './helpers/app';
import { figureKeys, withoutHold } from './helpers/holds';
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
  { label: 'MAX_UNITS + 1 (2^31)', value: MAX_UNITS + 1 },
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
        expect(res.body.error.code).to.equal('ERR_RESERVE_STOCK_INPUT');
        expect(await shop.store.getStock('item')).to.equal(10);
        // Also on a key that holds no figure: the loader is never asked.
        shop.state.key = 'cold';
        expect((await request(shop.http.url).post('/order')).status).to.equal(400);
        expect(shop.state.loaderCalls).to.equal(0);
        expect(await keysWithPrefix(shared.redis, shop.prefix)).to.deep.equal(figureKeys(shop.prefix, 'item'));
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
        expect(res.body.error.code).to.equal('ERR_RESERVE_STOCK_INPUT');
        expect(shop.state.loaderCalls).to.equal(0);
        expect(await shop.store.getStock('item')).to.equal(10);
        expect(await keysWithPrefix(shared.redis, shop.prefix)).to.deep.equal(figureKeys(shop.prefix, 'item'));
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
          () => Promise.resolve().then(() => shop.store.holdId(key)),
          () => Promise.resolve().then(() => shop.store.holdId(key, 'seed')),
          () => shop.store.getHolds(key),
          () => shop.store.reconcile(key, 10),
          () => shop.store.reconcile(key, 10, { fix: true }),
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
      expect(await keysWithPrefix(shared.redis, shop.prefix)).to.deep.equal(figureKeys(shop.prefix, 'item'));
    });
  });

  describe('a bad hold id is a 400 and changes nothing', () => {
    const item = Buffer.from('item').toString('base64url');
    const BAD_HOLD_IDS: Case[] = [
      { label: "''", value: '' },
      { label: 'a key, not a hold id', value: 'item' },
      { label: 'no nonce', value: `.${item}` },
      { label: 'a short nonce', value: `abc.${item}` },
      { label: 'a nonce with a bad character', value: `${'a'.repeat(21)}!.${item}` },
      { label: 'no item', value: `${'a'.repeat(22)}.` },
      { label: 'an item that is not base64url', value: `${'a'.repeat(22)}.it em` },
      { label: 'an item in padded base64', value: `${'a'.repeat(22)}.${Buffer.from('item!').toString('base64')}` },
      { label: 'an item key too long', value: `${'a'.repeat(22)}.${Buffer.from('k'.repeat(MAX_KEY_LENGTH + 1)).toString('base64url')}` },
      { label: 'a number', value: 42 },
      { label: 'null', value: null },
      { label: 'undefined', value: undefined },
    ];

    it('commit, release and extend refuse every one with a 400', async () => {
      const held = await shop.store.reserve('item', 2);
      expect(withoutHold(held, 'item')).to.deep.equal({ status: 'reserved', remaining: 8 });
      for (const { label, value } of BAD_HOLD_IDS) {
        const id = value as string;
        for (const call of [() => shop.store.commit(id), () => shop.store.release(id), () => shop.store.extend(id, 60)]) {
          const error = await call().then(
            () => null,
            (e: unknown) => e,
          );
          expect(error, label).to.include({ status: 400, code: 'ERR_RESERVE_STOCK_INPUT' });
        }
      }
      expect(await shop.store.getStock('item')).to.equal(8);
      expect(await shop.store.getHolds('item')).to.deep.include({ count: 1, units: 2 });
    });

    it('extend refuses a bad number of seconds with a 400 and changes nothing', async () => {
      const held = await shop.store.reserve('item', 1);
      if (held.status !== 'reserved') throw new Error('not reserved');
      for (const seconds of [0, -1, 1.5, NaN, Infinity, '60', null]) {
        const error = await shop.store.extend(held.holdId, seconds as number).then(
          () => null,
          (e: unknown) => e,
        );
        expect(error, String(seconds)).to.include({ status: 400, code: 'ERR_RESERVE_STOCK_INPUT' });
      }
      const [open] = (await shop.store.getHolds('item')).holds;
      expect(open).to.deep.equal({ holdId: held.holdId, qty: 1, expiresAt: held.expiresAt, state: 'held' });
    });

    it("reserve refuses another item's hold id, and a bad holdSeconds, with a 400", async () => {
      for (const options of [
        { holdId: shop.store.holdId('other') },
        { holdId: 'not-a-hold-id' },
        { holdSeconds: 0 },
        { holdSeconds: 1.5 },
        { holdSeconds: -5 },
      ]) {
        const error = await shop.store.reserve('item', 1, undefined, options).then(
          () => null,
          (e: unknown) => e,
        );
        expect(error, JSON.stringify(options)).to.include({ status: 400, code: 'ERR_RESERVE_STOCK_INPUT' });
      }
      expect(await shop.store.getStock('item')).to.equal(10);
      expect(await shop.store.getHolds('item')).to.deep.include({ count: 0, units: 0 });
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
      expect(res.body.error.code).to.equal('ERR_RESERVE_STOCK_INPUT');
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
      expect(res.body.error.message).to.equal('log in first');
    });
  });
});

describe('core: key injection', () => {
  const NAMES = ['a', 'a}', '{a}', 'a:lock', '}a', 'a%7D', '%', '{'];

  it('escapes the hash tag: a, a}, {a}, a:lock ... are all distinct items', async () => {
    const prefix = shared.prefix();
    const store = createStockStore({ redis: shared.redis, prefix });
    for (const [i, name] of NAMES.entries()) await store.setStock(name, 100 + i);
    // A figure and its holds hash (the epoch counter) per item.
    expect(await keysWithPrefix(shared.redis, prefix)).to.deep.equal(NAMES.flatMap((name) => figureKeys(prefix, name)).sort());
    for (const [i, name] of NAMES.entries()) expect(await store.getStock(name), name).to.equal(100 + i);

    const a = await store.reserve('a}', 5);
    const lock = await store.reserve('a:lock', 2);
    expect(withoutHold(a, 'a}')).to.deep.equal({ status: 'reserved', remaining: 96 });
    expect(withoutHold(lock, 'a:lock')).to.deep.equal({ status: 'reserved', remaining: 101 });
    for (const [i, name] of NAMES.entries()) {
      const expected = 100 + i - (name === 'a}' ? 5 : 0) - (name === 'a:lock' ? 2 : 0);
      expect(await store.getStock(name), name).to.equal(expected);
      const held = name === 'a}' ? 5 : name === 'a:lock' ? 2 : 0;
      expect(await store.getHolds(name), name).to.deep.include({ count: held ? 1 : 0, units: held });
    }
    // Each hold id names its own item: settling it touches that item only.
    if (a.status !== 'reserved') throw new Error('not reserved');
    expect(await store.release(a.holdId)).to.deep.equal({ state: 'released', changed: true });
    for (const [i, name] of NAMES.entries()) {
      expect(await store.getStock(name), name).to.equal(100 + i - (name === 'a:lock' ? 2 : 0));
    }
  });

  it("every name yields one hash tag shared by all its keys, and no key of one item equals another item's", () => {
    const all = NAMES.flatMap((n) => {
      const { stock, lock, holds } = stockKeys('p:', n);
      return [stock, lock, ...holds.slice(1)];
    });
    // figure, lock, holds, due, due-sorted, purge, quiet: seven distinct keys per item.
    expect(new Set(all).size).to.equal(NAMES.length * 7);
    for (const name of NAMES) {
      const { stock, lock, holds } = stockKeys('p:', name);
      for (const key of [stock, lock, ...holds]) {
        expect(key.match(/[{}]/g), key).to.deep.equal(['{', '}']);
        expect(key.startsWith(stock), key).to.equal(true);
      }
      expect(lock).to.equal(`${stock}:lock`);
      expect(holds).to.deep.equal([stock, `${stock}:holds`, `${stock}:due`, `${stock}:due-sorted`, `${stock}:purge`, `${stock}:quiet`]);
    }
    expect(stockKeys('p:', 'a}')).to.deep.equal({
      stock: 'p:{a%7D}',
      lock: 'p:{a%7D}:lock',
      holds: ['p:{a%7D}', 'p:{a%7D}:holds', 'p:{a%7D}:due', 'p:{a%7D}:due-sorted', 'p:{a%7D}:purge', 'p:{a%7D}:quiet'],
    });
    expect(stockKeys('p:', '{a}').stock).to.equal('p:{%7Ba%7D}');
    expect(stockKeys('p:', 'a%7D').stock).to.equal('p:{a%257D}');
  });

  it("the lock of item a does not block item 'a:lock'", async () => {
    const prefix = shared.prefix();
    const store = createStockStore({ redis: shared.redis, prefix, initTimeoutMs: 300 });
    await shared.redis.set(stockKeys(prefix, 'a').lock, 'other', 'PX', 30_000);
    expect(withoutHold(await store.reserve('a:lock', 1, () => 4), 'a:lock')).to.deep.equal({ status: 'reserved', remaining: 3 });
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

  it('reserveStock with bad hold or idempotency options: ERR_RESERVE_STOCK_OPTION', () => {
    for (const bad of [
      { autoCommit: 'no' },
      { autoCommit: 0 },
      { holdSeconds: 0 },
      { holdSeconds: 1.5 },
      { holdSeconds: '60' },
      { idempotencyKey: 'Idempotency-Key' },
      { idempotencyKey: true },
      { idempotencySeconds: 0 },
      { idempotencySeconds: 2.5 },
      { idempotencyScope: 'customer' },
      { fingerprint: true },
      { maxReplayBytes: -1 },
      // Checked even while idempotency is off.
      { idempotencyKey: false, idempotencyScope: 'customer' },
    ]) {
      expectConfigError(mw({ store: store(), key: 'a', ...bad }), 'ERR_RESERVE_STOCK_OPTION');
    }
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
    ['holdSeconds 0', { holdSeconds: 0 }],
    ['fractional holdSeconds', { holdSeconds: 0.5 }],
    ['retentionSeconds 0', { retentionSeconds: 0 }],
    ['string retentionSeconds', { retentionSeconds: '60' }],
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
    expect(() => createStockStore({ redis: shared.redis, holdSeconds: 1, retentionSeconds: 1 })).not.to.throw();
    expect(() =>
      reserveStock({ store: store(), key: 'a', autoCommit: false, holdSeconds: 1, idempotencyKey: false, idempotencySeconds: 1 }),
    ).not.to.throw();
    expect(() => reserveStock({ store: store(), key: 'a', idempotencyKey: (req) => req.get('x-request-id') })).not.to.throw();
    expect(() =>
      reserveStock({ store: store(), key: 'a', idempotencyScope: (req) => String(req.get('x-customer')), fingerprint: () => '', maxReplayBytes: 0 }),
    ).not.to.throw();
  });
});
