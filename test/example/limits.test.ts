/**
 * The example's per-customer limits over HTTP, against the real MariaDB and
 * Redis: a product's `perCustomerLimit` (migration 007), loaded with its
 * stock and changed by the admin route (`PUT /products/:sku/limit`, which
 * tells Redis at once), counted against the example's customer (the cookie,
 * or X-Customer-Id with the admin token) on `POST /orders` and
 * `POST /carts/checkout`. What was bought is read from the order rows.
 */
import { expect } from 'chai';
import request from 'supertest';
import { QueryTypes } from 'sequelize';
import { expectError } from './expect-error';
import { adminPost, figures, stockKey, useShop, type Shop } from './shop';

const LIMIT_CODE = 'ERR_RESERVE_STOCK_LIMIT';

describe('example app: per-customer limits', function () {
  this.timeout(60_000);
  let shop: Shop;
  useShop((opened) => (shop = opened));

  /** A product through the admin API, with a per-customer limit (null: none). */
  async function limitedProduct(stock: number, perCustomerLimit: number | null, label = 'limited'): Promise<string> {
    const sku = shop.sku(label);
    const res = await adminPost(shop, '/products').send({ sku, name: `Test ${sku}`, stock, perCustomerLimit }).expect(201);
    expect(res.body).to.deep.equal({ sku, name: `Test ${sku}`, stock, perCustomerLimit });
    return sku;
  }

  /** An order as `customer` (X-Customer-Id, which needs the admin token). */
  function orderAs(customer: string, sku: string, qty = 1, payment = 'card'): request.Test {
    return request(shop.url)
      .post('/orders')
      .set('Authorization', `Bearer ${shop.adminToken}`)
      .set('X-Customer-Id', customer)
      .send({ sku, qty, payment });
  }

  function cartAs(customer: string, items: { sku: string; qty: number }[]): request.Test {
    return request(shop.url)
      .post('/carts/checkout')
      .set('Authorization', `Bearer ${shop.adminToken}`)
      .set('X-Customer-Id', customer)
      .send({ items });
  }

  function setLimit(sku: string, perCustomerLimit: unknown): request.Test {
    return request(shop.url).put(`/products/${sku}/limit`).set('Authorization', `Bearer ${shop.adminToken}`).send({ perCustomerLimit });
  }

  /** Units in the order rows of `sku`, per customer. */
  async function unitsByCustomer(sku: string): Promise<Record<string, number>> {
    const rows = await shop.db.sequelize.query<{ customer: string; units: string | number }>(
      'SELECT customer, SUM(qty) AS units FROM orders WHERE sku = ? GROUP BY customer ORDER BY customer',
      { replacements: [sku], type: QueryTypes.SELECT },
    );
    return Object.fromEntries(rows.map((row) => [row.customer, Number(row.units)]));
  }

  function expectLimit(res: request.Response, sku: string, limit: number, requested: number, bought: number): void {
    expectError(res, 409, LIMIT_CODE);
    expect(res.body.error).to.include({ key: sku, limit, requested, bought });
  }

  it('50 parallel orders of one customer: exactly the limit ordered in the database, the rest 409 ERR_RESERVE_STOCK_LIMIT', async () => {
    const sku = await limitedProduct(20, 2);
    const transactions = shop.stats.dbTransactions;
    const answers = await Promise.all(Array.from({ length: 50 }, () => orderAs('alice', sku, 1)));
    expect(answers.filter((r) => r.status === 201), 'answered 201').to.have.length(2);
    const refused = answers.filter((r) => r.status !== 201);
    expect(refused).to.have.length(48);
    for (const r of refused) expectLimit(r, sku, 2, 1, 2);
    expect(await unitsByCustomer(sku)).to.deep.equal({ alice: 2 });
    expect(await figures(shop, sku)).to.deep.equal({ dbStock: 18, redis: 18, unitsOrdered: 2, orders: 2 });
    // The limit's 409s were answered by Redis: none reached the database.
    expect(shop.stats.dbTransactions - transactions).to.equal(2);
  });

  it('another customer is not affected: each buys up to the limit, by header or by cookie', async () => {
    const sku = await limitedProduct(20, 2);
    await orderAs('alice', sku, 2).expect(201);
    expectLimit(await orderAs('alice', sku, 1), sku, 2, 1, 2);
    await orderAs('bob', sku, 2).expect(201);
    // Two browsers: each its own cookie, its own count.
    for (const browser of [request.agent(shop.url), request.agent(shop.url)]) {
      await browser.get('/').expect(200);
      await browser.post('/orders').send({ sku, qty: 1 }).expect(201);
      await browser.post('/orders').send({ sku, qty: 1 }).expect(201);
      expectLimit(await browser.post('/orders').send({ sku, qty: 1 }), sku, 2, 1, 2);
    }
    const units = await unitsByCustomer(sku);
    expect(Object.values(units)).to.deep.equal([2, 2, 2, 2]);
    expect(units).to.include({ alice: 2, bob: 2 });
    expect((await figures(shop, sku)).dbStock).to.equal(12);
  });

  it('a declined payment (402) gives the quota back with the units; a paid order keeps it', async () => {
    const sku = await limitedProduct(10, 2);
    await orderAs('alice', sku, 1).expect(201);
    expectError(await orderAs('alice', sku, 1, 'decline'), 402);
    expectError(await orderAs('alice', sku, 1, 'decline'), 402);
    // Two declines later, alice still has one unit of her limit left.
    await orderAs('alice', sku, 1).expect(201);
    expectLimit(await orderAs('alice', sku, 1), sku, 2, 1, 2);
    expect(await unitsByCustomer(sku)).to.deep.equal({ alice: 2 });
    expect(await figures(shop, sku)).to.deep.equal({ dbStock: 8, redis: 8, unitsOrdered: 2, orders: 2 });
  });

  it('a cart past a limit on any line takes nothing: 409 with the lines over theirs', async () => {
    const limited = await limitedProduct(10, 1);
    const open = await limitedProduct(10, null, 'open');
    const over = await cartAs('alice', [
      { sku: open, qty: 3 },
      { sku: limited, qty: 2 },
    ]);
    expectError(over, 409, LIMIT_CODE);
    expect(over.body.error.lines).to.deep.equal([{ key: limited, requested: 2, limit: 1, bought: 0 }]);
    for (const sku of [limited, open]) {
      const { dbStock, redis, orders } = await figures(shop, sku);
      expect({ dbStock, orders }, sku).to.deep.equal({ dbStock: 10, orders: 0 });
      expect([null, 10], sku).to.include(redis);
    }
    // Within the limit the cart goes through, and counts toward it.
    await cartAs('alice', [
      { sku: open, qty: 3 },
      { sku: limited, qty: 1 },
    ]).expect(201);
    const again = await cartAs('alice', [{ sku: limited, qty: 1 }]);
    expectError(again, 409, LIMIT_CODE);
    expect(again.body.error.lines).to.deep.equal([{ key: limited, requested: 1, limit: 1, bought: 1 }]);
    expect(await unitsByCustomer(limited)).to.deep.equal({ alice: 1 });
    expect(await unitsByCustomer(open)).to.deep.equal({ alice: 3 });
  });

  it('the admin route sets, raises and clears the limit; Redis follows at once, no reload', async () => {
    const sku = await limitedProduct(20, null);
    await orderAs('alice', sku, 1).expect(201); // loads the figure, no limit
    const initialised = () => shop.events.filter((e) => e.type === 'initialised' && e.key === sku).length;
    expect(initialised()).to.equal(1);

    const set = await setLimit(sku, 1).expect(200);
    expect(set.body).to.deep.equal({ sku, name: `Test ${sku}`, stock: 19, perCustomerLimit: 1, available: 19 });
    expect((await request(shop.url).get(`/products/${sku}`).expect(200)).body.perCustomerLimit).to.equal(1);
    // Units bought while no limit applied were not counted: alice starts from 0.
    await orderAs('alice', sku, 1).expect(201);
    expectLimit(await orderAs('alice', sku, 1), sku, 1, 1, 1);

    await setLimit(sku, 3).expect(200);
    await orderAs('alice', sku, 2).expect(201);
    expectLimit(await orderAs('alice', sku, 1), sku, 3, 1, 3);

    const cleared = await setLimit(sku, null).expect(200);
    expect(cleared.body.perCustomerLimit).to.equal(null);
    await orderAs('alice', sku, 5).expect(201);
    expect(initialised(), 'the figure was never loaded again').to.equal(1);
    expect(await unitsByCustomer(sku)).to.deep.equal({ alice: 9 });
  });

  it('the admin route on a product Redis has not loaded yet: the limit holds from the first order', async () => {
    const sku = await limitedProduct(10, null);
    await setLimit(sku, 2).expect(200);
    await orderAs('alice', sku, 2).expect(201);
    expectLimit(await orderAs('alice', sku, 1), sku, 2, 1, 2);
  });

  it('a reload of the figure from the database keeps what each customer has counted', async () => {
    const sku = await limitedProduct(10, 2);
    await orderAs('alice', sku, 2).expect(201);
    await shop.redis.del(stockKey(shop, sku)); // the figure gone (expired, evicted)
    expectLimit(await orderAs('alice', sku, 1), sku, 2, 1, 2);
    await orderAs('bob', sku, 2).expect(201);
    expect(shop.events.filter((e) => e.type === 'initialised' && e.key === sku)).to.have.length(2);
    expect(await unitsByCustomer(sku)).to.deep.equal({ alice: 2, bob: 2 });
  });

  it('PUT /products/:sku/limit: the admin token, a good limit and a known sku, or nothing changes', async () => {
    const sku = await limitedProduct(5, 2);
    expectError(await request(shop.url).put(`/products/${sku}/limit`).send({ perCustomerLimit: 9 }), 401);
    expectError(await request(shop.url).put(`/products/${sku}/limit`).set('Authorization', 'Bearer nope').send({ perCustomerLimit: 9 }), 403);
    for (const bad of [0, -1, 1.5, '3', 2 ** 31, undefined, false]) expectError(await setLimit(sku, bad), 400);
    expectError(await setLimit(shop.sku('ghost'), 2), 404);
    expect((await shop.db.Product.findOne({ where: { sku } }))?.perCustomerLimit).to.equal(2);
    await orderAs('alice', sku, 2).expect(201);
    expectLimit(await orderAs('alice', sku, 1), sku, 2, 1, 2);
  });

  it('POST /products with a bad perCustomerLimit: 400, nothing created', async () => {
    for (const perCustomerLimit of [0, -2, 2.5, '2', 2 ** 31]) {
      const sku = shop.sku('bad-limit');
      expectError(await adminPost(shop, '/products').send({ sku, name: 'n', stock: 5, perCustomerLimit }), 400);
      expect(await shop.db.Product.count({ where: { sku } })).to.equal(0);
    }
  });
});
