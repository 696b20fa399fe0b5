/**
 * The example's `POST /carts/checkout`: every line sold or none, the
 * database's conditional decrement guarding every line in one transaction.
 */
import { expect } from 'chai';
import request from 'supertest';
import { requestKey } from '../../lib/store/keys';
import { expectError } from './expect-error';
import { addProduct, asCustomer, figures, inParallel, stockKey, useShop, type Shop } from './shop';

describe('example app: POST /carts/checkout', function () {
  this.timeout(60_000);
  let shop: Shop;
  useShop((opened) => (shop = opened));

  function checkout(items: { sku: string; qty: number }[], payment = 'card'): request.Test {
    return request(shop.url).post('/carts/checkout').send({ items, payment });
  }

  it('201: one order row per line, each naming its hold; database and Redis both lower', async () => {
    const a = await addProduct(shop, 5);
    const b = await addProduct(shop, 3);
    const res = await checkout([
      { sku: a, qty: 2 },
      { sku: b, qty: 1 },
      { sku: a, qty: 1 },
    ]).expect(201);
    const lines = (res.body.orders as { sku: string; qty: number; status: string }[]).map(({ sku, qty, status }) => ({ sku, qty, status }));
    expect(lines).to.deep.equal([
      { sku: a, qty: 3, status: 'paid' },
      { sku: b, qty: 1, status: 'paid' },
    ].sort((x, y) => (x.sku < y.sku ? -1 : 1)));
    const rows = await shop.db.Order.findAll({ where: { sku: [a, b] } });
    expect(rows.every((row) => typeof row.holdId === 'string')).to.equal(true);
    expect(await figures(shop, a)).to.deep.equal({ dbStock: 2, redis: 2, unitsOrdered: 3, orders: 1 });
    expect(await figures(shop, b)).to.deep.equal({ dbStock: 2, redis: 2, unitsOrdered: 1, orders: 1 });
  });

  it('409 lists every short line with what is available; nothing changes anywhere', async () => {
    const a = await addProduct(shop, 5);
    const b = await addProduct(shop, 1);
    const c = await addProduct(shop, 0);
    const res = await checkout([
      { sku: a, qty: 2 },
      { sku: b, qty: 2 },
      { sku: c, qty: 1 },
    ]).expect(409);
    expect(res.body.error.lines).to.have.deep.members([
      { key: b, requested: 2, available: 1 },
      { key: c, requested: 1, available: 0 },
    ]);
    expect(await figures(shop, a)).to.deep.equal({ dbStock: 5, redis: 5, unitsOrdered: 0, orders: 0 });
    expect(await figures(shop, b)).to.deep.equal({ dbStock: 1, redis: 1, unitsOrdered: 0, orders: 0 });
  });

  it('a declined payment gives every line back; bad carts are 400s', async () => {
    const a = await addProduct(shop, 4);
    const b = await addProduct(shop, 4);
    expectError(await checkout([{ sku: a, qty: 1 }, { sku: b, qty: 2 }], 'decline'), 402);
    expect(await figures(shop, a)).to.deep.equal({ dbStock: 4, redis: 4, unitsOrdered: 0, orders: 0 });
    expect(await figures(shop, b)).to.deep.equal({ dbStock: 4, redis: 4, unitsOrdered: 0, orders: 0 });
    for (const body of [{ items: [] }, { items: [{ sku: a, qty: 0 }] }, { items: [{ sku: 'has space', qty: 1 }] }, { items: 'a' }, {}]) {
      expectError(await request(shop.url).post('/carts/checkout').send(body), 400);
    }
  });

  it('the database guard refuses a line Redis over-states: the cart is a 409 and the other line goes back', async () => {
    const a = await addProduct(shop, 5);
    const b = await addProduct(shop, 2);
    await checkout([{ sku: b, qty: 1 }]).expect(201);
    // Redis over-states b by 3 behind the app's back (a lost write).
    await shop.redis.set(stockKey(shop, b), 4, 'KEEPTTL');
    expectError(await checkout([{ sku: a, qty: 1 }, { sku: b, qty: 4 }]), 409);
    expect(await figures(shop, a)).to.deep.equal({ dbStock: 5, redis: 5, unitsOrdered: 0, orders: 0 });
    // b: the refused line's 4 stay taken, the database's 1 comes back: Redis at the truth.
    expect(await figures(shop, b)).to.deep.equal({ dbStock: 1, redis: 1, unitsOrdered: 1, orders: 1 });
  });

  it('Idempotency-Key: a retry after Redis lost the key\'s record gets the same orders from the database; other lines are a 422', async () => {
    const a = await addProduct(shop, 5);
    const b = await addProduct(shop, 5);
    const items = [{ sku: b, qty: 2 }, { sku: a, qty: 1 }];
    // One customer's retries: the key is theirs.
    const customer = `cart-buyer-${a}`;
    const send = (body: object) => asCustomer(shop, customer, request(shop.url).post('/carts/checkout')).set('Idempotency-Key', `cart-${a}`).send(body);
    const first = await send({ items }).expect(201);
    await shop.redis.del(requestKey(shop.prefix, `cart-${a}`, customer));
    const retry = await send({ items }).expect(201);
    expect(retry.body).to.deep.equal(first.body);
    expect(await figures(shop, a)).to.deep.equal({ dbStock: 4, redis: 4, unitsOrdered: 1, orders: 1 });
    expect(await figures(shop, b)).to.deep.equal({ dbStock: 3, redis: 3, unitsOrdered: 2, orders: 1 });
    await shop.redis.del(requestKey(shop.prefix, `cart-${a}`, customer));
    expectError(await send({ items: [{ sku: b, qty: 2 }] }), 422);
    expect(await figures(shop, b)).to.deep.equal({ dbStock: 3, redis: 3, unitsOrdered: 2, orders: 1 });
  });

  it('a flash sale of carts over three products: never oversold, books balance, Redis ends at the database', async () => {
    const skus = [await addProduct(shop, 30), await addProduct(shop, 20), await addProduct(shop, 10)];
    const answers = await inParallel(150, 40, async (i) => {
      const items = skus.filter((_, k) => (i >> k) & 1 || k === i % 3).map((sku, k) => ({ sku, qty: 1 + ((i + k) % 2) }));
      const res = await checkout(items, i % 5 === 4 ? 'decline' : 'card');
      return { status: res.status, items };
    });
    expect(answers.every((a) => [201, 402, 409].includes(a.status))).to.equal(true);
    for (const [k, sku] of skus.entries()) {
      const initial = [30, 20, 10][k] as number;
      const sold = answers
        .filter((a) => a.status === 201)
        .flatMap((a) => a.items)
        .filter((line) => line.sku === sku)
        .reduce((sum, line) => sum + line.qty, 0);
      const settled = await figures(shop, sku);
      expect(settled.unitsOrdered, sku).to.equal(sold);
      expect(settled.dbStock + sold, sku).to.equal(initial);
      expect(settled.dbStock, sku).to.be.at.least(0);
      expect(settled.redis, sku).to.equal(settled.dbStock);
    }
  });
});
