/**
 * Per-customer limits: checked and counted in the same script as the
 * deduction, given back with a release or an expiry, kept by a commit, and
 * for carts every line or none.
 */
import { expect } from 'chai';
import createError from 'http-errors';
import request from 'supertest';
import { ConfigError, createStockStore, customerDigest, reserveStock, stockKeys, type StockStore, type StockStoreOptions } from '../lib';
import { express } from './helpers/app';
import { customerCounts } from './helpers/customer-counts';
import { errorBodyProblem } from './helpers/error-body';
import { EventLog } from './helpers/events';
import { held, sleepPast } from './helpers/holds';
import { keysWithPrefix, useSharedRedis } from './helpers/redis';
import { sleep } from './helpers/wait';

const shared = useSharedRedis('limits');

function make(options: Partial<StockStoreOptions> = {}) {
  const prefix = shared.prefix();
  const log = new EventLog();
  const store = createStockStore({ redis: shared.redis, prefix, onEvent: log.onEvent, ...options });
  const counted = async (key: string, customer: string) =>
    Number((await shared.redis.hget(stockKeys(prefix, key).holds[1], customerDigest(customer))) ?? 0);
  return { prefix, store, log, counted };
}

/** Units of `key` reserved by `results`. */
const granted = (results: { status: string }[]) => results.filter((r) => r.status === 'reserved' || r.status === 'unlimited').length;

describe('per-customer limits: the store', () => {
  it('50 parallel reservations of 1 unit by one customer, limit 2: exactly 2 reserved, 48 refused with what was bought', async () => {
    const { store, log, counted } = make();
    await store.setStock('tee', 100);
    const results = await Promise.all(Array.from({ length: 50 }, () => store.reserve('tee', 1, undefined, { customer: 'alice', limit: 2 })));
    expect(granted(results)).to.equal(2);
    expect(results.filter((r) => r.status === 'limit')).to.have.length(48);
    for (const r of results) if (r.status === 'limit') expect(r).to.deep.equal({ status: 'limit', limit: 2, bought: 2 });
    expect(await store.getStock('tee')).to.equal(98);
    expect(await counted('tee', 'alice')).to.equal(2);
    expect(log.of('limit')).to.have.length(48);
    expect(log.of('limit')[0]).to.deep.equal({ type: 'limit', key: 'tee', requested: 1, limit: 2, bought: 2 });
  });

  it('a request for more than is left within the limit is refused whole, nothing deducted', async () => {
    const { store, counted } = make();
    await store.setStock('tee', 100);
    held(await store.reserve('tee', 2, undefined, { customer: 'alice', limit: 3 }));
    expect(await store.reserve('tee', 2, undefined, { customer: 'alice', limit: 3 })).to.deep.equal({ status: 'limit', limit: 3, bought: 2 });
    expect(await store.getStock('tee')).to.equal(98);
    expect(await counted('tee', 'alice')).to.equal(2);
    held(await store.reserve('tee', 1, undefined, { customer: 'alice', limit: 3 }));
  });

  it('other customers are not affected; a reservation without a customer is not limited', async () => {
    const { store } = make();
    await store.setStock('tee', 100);
    for (const customer of ['alice', 'bob', 'carol']) {
      held(await store.reserve('tee', 2, undefined, { customer, limit: 2 }));
      expect((await store.reserve('tee', 1, undefined, { customer, limit: 2 })).status).to.equal('limit');
    }
    held(await store.reserve('tee', 10, undefined, { limit: 2 }));
    expect(await store.getStock('tee')).to.equal(84);
  });

  it('a release gives the quota back with the units, once; a commit keeps it', async () => {
    const { store, counted } = make();
    await store.setStock('tee', 100);
    const a = held(await store.reserve('tee', 1, undefined, { customer: 'alice', limit: 2 }));
    const b = held(await store.reserve('tee', 1, undefined, { customer: 'alice', limit: 2 }));
    expect((await store.reserve('tee', 1, undefined, { customer: 'alice', limit: 2 })).status).to.equal('limit');
    await store.release(a.holdId);
    await store.release(a.holdId);
    expect(await counted('tee', 'alice')).to.equal(1);
    const c = held(await store.reserve('tee', 1, undefined, { customer: 'alice', limit: 2 }));
    expect((await store.reserve('tee', 1, undefined, { customer: 'alice', limit: 2 })).status).to.equal('limit');
    await store.commit(b.holdId);
    await store.commit(c.holdId);
    expect(await counted('tee', 'alice')).to.equal(2);
    expect((await store.reserve('tee', 1, undefined, { customer: 'alice', limit: 2 })).status).to.equal('limit');
    expect(await store.getStock('tee')).to.equal(98);
  });

  it('an expiry gives the quota back, exactly once', async () => {
    const { store, counted } = make();
    await store.setStock('tee', 100);
    const h = held(await store.reserve('tee', 2, undefined, { customer: 'alice', limit: 2, holdSeconds: 1 }));
    expect((await store.reserve('tee', 1, undefined, { customer: 'alice', limit: 2 })).status).to.equal('limit');
    await sleepPast(h.expiresAt);
    held(await store.reserve('tee', 2, undefined, { customer: 'alice', limit: 2 }));
    expect(await counted('tee', 'alice')).to.equal(2);
    expect(await store.release(h.holdId)).to.deep.equal({ state: 'expired', changed: false });
    expect(await counted('tee', 'alice')).to.equal(2);
    expect(await store.getStock('tee')).to.equal(98);
  });

  it('an in-doubt hold keeps its quota until resolved; a release then gives it back', async () => {
    const { store, counted } = make();
    await store.setStock('tee', 10);
    const h = held(await store.reserve('tee', 2, undefined, { customer: 'alice', limit: 2, holdSeconds: 1 }));
    await store.prepare(h.holdId);
    await sleepPast(h.expiresAt);
    expect((await store.reserve('tee', 1, undefined, { customer: 'alice', limit: 2 })).status).to.equal('limit');
    expect((await store.getHolds('tee')).inDoubt).to.equal(1);
    await store.resolveInDoubt('tee', () => false);
    expect(await counted('tee', 'alice')).to.equal(0);
    held(await store.reserve('tee', 2, undefined, { customer: 'alice', limit: 2 }));
  });

  it('unlimited stock still counts the units asked for', async () => {
    const { store, counted } = make();
    await store.setStock('ebook', -1);
    expect((await store.reserve('ebook', 3, undefined, { customer: 'alice', limit: 3 })).status).to.equal('unlimited');
    expect(await store.reserve('ebook', 1, undefined, { customer: 'alice', limit: 3 })).to.deep.equal({ status: 'limit', limit: 3, bought: 3 });
    expect(await counted('ebook', 'alice')).to.equal(3);
  });

  it("the item's own limit: from the loader's { stock, limit }, or setLimit; a call's limit goes first", async () => {
    const { store } = make();
    held(await store.reserve('mug', 1, () => ({ stock: 50, limit: 1 }), { customer: 'alice' }));
    expect(await store.reserve('mug', 1, undefined, { customer: 'alice' })).to.deep.equal({ status: 'limit', limit: 1, bought: 1 });
    held(await store.reserve('mug', 1, undefined, { customer: 'alice', limit: 5 }));
    await store.setLimit('mug', 3);
    held(await store.reserve('mug', 1, undefined, { customer: 'alice' }));
    expect((await store.reserve('mug', 1, undefined, { customer: 'alice' })).status).to.equal('limit');
    await store.setLimit('mug', 0);
    held(await store.reserve('mug', 5, undefined, { customer: 'alice' }));
    // setStock keeps the item's limit.
    await store.setLimit('mug', 1);
    await store.setStock('mug', 50);
    expect((await store.reserve('mug', 1, undefined, { customer: 'bob' })).status).to.equal('reserved');
    expect((await store.reserve('mug', 1, undefined, { customer: 'bob' })).status).to.equal('limit');
  });

  it('setLimit waits for a load under way: the limit the load read before cannot be written over the new one', async () => {
    const { store } = make();
    let loaded!: () => void;
    const loading = new Promise<void>((resolve) => (loaded = resolve));
    // The loader reads the old limit (5), then the admin changes it to 1 while the load is still writing.
    const first = store.reserve('mug', 1, async () => {
      setTimeout(loaded, 10);
      await sleep(300);
      return { stock: 50, limit: 5 };
    }, { customer: 'alice' });
    await loading;
    await store.setLimit('mug', 1);
    held(await first);
    expect(await store.reserve('mug', 1, undefined, { customer: 'alice' })).to.deep.equal({ status: 'limit', limit: 1, bought: 1 });
  });

  it('a resent reservation (the same hold id) counts once', async () => {
    const { store, counted } = make();
    await store.setStock('tee', 10);
    const holdId = store.holdId('tee', 'order-1');
    const first = held(await store.reserve('tee', 1, undefined, { customer: 'alice', limit: 2, holdId }));
    const again = held(await store.reserve('tee', 1, undefined, { customer: 'alice', limit: 2, holdId }));
    expect(again.holdId).to.equal(first.holdId);
    expect(await counted('tee', 'alice')).to.equal(1);
  });

  it('sold out goes before the limit: not enough stock is a sold-out answer', async () => {
    const { store } = make();
    await store.setStock('tee', 1);
    expect(await store.reserve('tee', 3, undefined, { customer: 'alice', limit: 2 })).to.deep.equal({ status: 'insufficient', available: 1 });
  });

  it('bad input is a 400 that changes nothing: a customer that is no string, a limit that is no whole number', async () => {
    const { store, prefix } = make();
    await store.setStock('tee', 10);
    for (const options of [{ customer: '' }, { customer: 'x'.repeat(513) }, { customer: 'alice', limit: -1 }, { customer: 'alice', limit: 1.5 }]) {
      const error = await store.reserve('tee', 1, undefined, options as never).then(() => null, (e: unknown) => e);
      expect(error, JSON.stringify(options).slice(0, 40)).to.include({ status: 400, code: 'ERR_RESERVE_STOCK_INPUT' });
    }
    expect(await store.getStock('tee')).to.equal(10);
    expect(await customerCounts(shared.redis, stockKeys(prefix, 'tee').holds[1])).to.deep.equal({});
  });

  it('carts: every line checked; a cart past a limit on any line takes nothing', async () => {
    const { store, counted } = make();
    await store.setStock('a', 10);
    await store.setStock('b', 10);
    const options = { customer: 'alice', limit: (key: string) => (key === 'b' ? 1 : undefined) };
    expect((await store.reserveCart([{ key: 'a', qty: 5 }, { key: 'b', qty: 1 }], undefined, options)).status).to.equal('reserved');
    const over = await store.reserveCart([{ key: 'a', qty: 1 }, { key: 'b', qty: 1 }], undefined, options);
    expect(over).to.deep.equal({ status: 'limit', over: [{ key: 'b', requested: 1, limit: 1, bought: 1 }] });
    expect([await store.getStock('a'), await store.getStock('b')]).to.deep.equal([5, 9]);
    expect([await counted('a', 'alice'), await counted('b', 'alice')]).to.deep.equal([0, 1]);
  });

  it("reconcile reports customers whose count is below their open holds' units", async () => {
    const { store, prefix } = make();
    await store.setStock('tee', 10);
    held(await store.reserve('tee', 2, undefined, { customer: 'alice', limit: 5 }));
    held(await store.reserve('tee', 1, undefined, { customer: 'bob', limit: 5 }));
    expect((await store.reconcile('tee', 10, { customers: true })).customers).to.deep.equal({ checked: 2, mismatched: [] });
    await shared.redis.hincrby(stockKeys(prefix, 'tee').holds[1], customerDigest('alice'), -1);
    expect((await store.reconcile('tee', 10, { customers: true })).customers).to.deep.equal({
      checked: 2,
      mismatched: [{ customer: customerDigest('alice'), counted: 1, open: 2 }],
    });
  });

  it("the counts live in the item's holds hash, beside its records: no key of their own", async () => {
    const { store, prefix } = make({ ttlSeconds: 60, holdSeconds: 30, retentionSeconds: 60 });
    await store.setStock('tee', 10);
    held(await store.reserve('tee', 1, undefined, { customer: 'alice', limit: 2 }));
    held(await store.reserve('tee', 2, undefined, { customer: 'bob', limit: 2 }));
    const holdKeys = stockKeys(prefix, 'tee').holds;
    for (const key of await keysWithPrefix(shared.redis, prefix)) expect(holdKeys, key).to.include(key);
    expect(await customerCounts(shared.redis, holdKeys[1])).to.deep.equal({ [customerDigest('alice')]: 1, [customerDigest('bob')]: 2 });
    expect(await shared.redis.pttl(holdKeys[1])).to.be.above(0);
  });
});

describe('per-customer limits: the middleware', () => {
  function app(store: StockStore, perCustomerLimit: number | ((key: string) => number)) {
    const shop = express();
    shop.use(express.json());
    shop.post(
      '/orders',
      reserveStock({ store, key: (req) => req.body.sku, qty: (req) => req.body.qty, customer: (req) => String(req.headers['x-customer']), perCustomerLimit }),
      (_req, res) => {
        res.status(201).json({ ok: true });
      },
    );
    shop.post(
      '/cart',
      reserveStock({ store, items: (req) => req.body.items, customer: (req) => String(req.headers['x-customer']), perCustomerLimit }),
      (_req, res) => {
        res.status(201).json({ ok: true });
      },
    );
    return shop;
  }

  it('50 parallel requests of one customer, limit 2: exactly 2 answered 201, the rest 409 ERR_RESERVE_STOCK_LIMIT', async () => {
    const { store } = make();
    await store.setStock('tee', 100);
    const shop = app(store, 2);
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => request(shop).post('/orders').set('x-customer', 'alice').send({ sku: 'tee', qty: 1 })),
    );
    expect(answers.filter((r) => r.status === 201)).to.have.length(2);
    const refused = answers.filter((r) => r.status === 409);
    expect(refused).to.have.length(48);
    for (const r of refused) {
      expect(errorBodyProblem(r)).to.equal(undefined);
      expect(r.body.error).to.include({ code: 'ERR_RESERVE_STOCK_LIMIT', key: 'tee', limit: 2, requested: 1, bought: 2 });
    }
    expect(await store.getStock('tee')).to.equal(98);
    const bob = await request(shop).post('/orders').set('x-customer', 'bob').send({ sku: 'tee', qty: 2 });
    expect(bob.status).to.equal(201);
  });

  it('a cart past a limit: 409 with the lines over theirs, nothing taken', async () => {
    const { store } = make();
    await store.setStock('a', 10);
    await store.setStock('b', 10);
    const shop = app(store, (key) => (key === 'a' ? 1 : 5));
    const res = await request(shop).post('/cart').set('x-customer', 'alice').send({ items: [{ key: 'a', qty: 2 }, { key: 'b', qty: 1 }] });
    expect(res.status).to.equal(409);
    expect(errorBodyProblem(res)).to.equal(undefined);
    expect(res.body.error).to.include({ code: 'ERR_RESERVE_STOCK_LIMIT' });
    expect(res.body.error.lines).to.deep.equal([{ key: 'a', requested: 2, limit: 1, bought: 0 }]);
    expect([await store.getStock('a'), await store.getStock('b')]).to.deep.equal([10, 10]);
  });

  it('a failed order gives the quota back (the middleware releases on >= 400)', async () => {
    const { store } = make();
    await store.setStock('tee', 10);
    const shop = express();
    shop.use(express.json());
    let fail = true;
    shop.post('/orders', reserveStock({ store, key: 'tee', customer: () => 'alice', perCustomerLimit: 1 }), (_req, res) => {
      res.status(fail ? 402 : 201).json({});
    });
    expect((await request(shop).post('/orders').send({})).status).to.equal(402);
    fail = false;
    expect((await request(shop).post('/orders').send({})).status).to.equal(201);
    expect((await request(shop).post('/orders').send({})).status).to.equal(409);
  });

  it("the customer function: its http-error passes through, a throw or a bad value is a 400; a limit function's bad value a 400; nothing reserved", async () => {
    const { store } = make();
    await store.setStock('tee', 10);
    const shop = express();
    shop.use(express.json());
    const customers: Record<string, () => unknown> = {
      '401': () => {
        throw createError(401, 'Sign in first');
      },
      throws: () => {
        throw new Error('no session store');
      },
      empty: () => '',
      number: () => 7,
      long: () => 'x'.repeat(513),
    };
    shop.post(
      '/orders/:who',
      reserveStock({
        store,
        key: 'tee',
        customer: (req) => (customers[String(req.params.who)] as () => string)(),
        perCustomerLimit: 2,
      }),
      (_req, res) => {
        res.status(201).json({});
      },
    );
    shop.post(
      '/limited/:limit',
      reserveStock({ store, key: 'tee', customer: () => 'alice', perCustomerLimit: (_key, req) => JSON.parse(String(req.params.limit)) as number }),
      (_req, res) => {
        res.status(201).json({});
      },
    );
    const signIn = await request(shop).post('/orders/401').send({});
    expect(signIn.status).to.equal(401);
    expect(signIn.body.error.message).to.equal('Sign in first');
    for (const who of ['throws', 'empty', 'number', 'long']) {
      const res = await request(shop).post(`/orders/${who}`).send({});
      expect(res.status, who).to.equal(400);
      expect(res.body.error.code, who).to.equal('ERR_RESERVE_STOCK_INPUT');
    }
    for (const limit of ['-1', '1.5', '"2"', 'null']) {
      const res = await request(shop).post(`/limited/${limit}`).send({});
      expect(res.status, limit).to.equal(400);
      expect(res.body.error.code, limit).to.equal('ERR_RESERVE_STOCK_INPUT');
    }
    expect(await store.getStock('tee')).to.equal(10);
    expect((await request(shop).post('/limited/1').send({})).status).to.equal(201);
  });

  it('setup: perCustomerLimit without customer, or not a whole number, is a ConfigError', () => {
    const { store } = make();
    expect(() => reserveStock({ store, key: 'tee', perCustomerLimit: 2 })).to.throw(ConfigError).with.property('code', 'ERR_RESERVE_STOCK_OPTION');
    expect(() => reserveStock({ store, key: 'tee', customer: () => 'a', perCustomerLimit: -1 })).to.throw(ConfigError);
    expect(() => reserveStock({ store, key: 'tee', customer: () => 'a', perCustomerLimit: 1.5 })).to.throw(ConfigError);
  });
});
