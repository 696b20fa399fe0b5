import { expect } from 'chai';
import request from 'supertest';
import { expectError } from './expect-error';
import { addProduct, figures, order, useShop, type Shop } from './shop';

describe('example app: POST /orders', () => {
  let shop: Shop;
  useShop((opened) => (shop = opened));

  it('sells: 201 with the order, stock taken in the database and Redis', async () => {
    const sku = await addProduct(shop, 5);
    const res = await order(shop, sku, 2).expect(201);
    expect(res.body).to.deep.equal({ id: res.body.id, sku, qty: 2, status: 'paid' });
    expect(res.body.id).to.be.a('number');
    expect(await figures(shop, sku)).to.deep.equal({ dbStock: 3, redis: 3, unitsOrdered: 2, orders: 1 });
  });

  it('a declined payment answers 402, rolls the order back and gives the units back', async () => {
    const sku = await addProduct(shop, 3);
    const before = shop.stats.dbTransactions;
    expectError(await order(shop, sku, 2, 'decline'), 402);
    expect(shop.stats.dbTransactions).to.equal(before + 1);
    expect(await figures(shop, sku)).to.deep.equal({ dbStock: 3, redis: 3, unitsOrdered: 0, orders: 0 });
    // Every unit is still sellable.
    await order(shop, sku, 3).expect(201);
    expect(await figures(shop, sku)).to.deep.equal({ dbStock: 0, redis: 0, unitsOrdered: 3, orders: 1 });
  });

  it('sold out: 409 from the middleware, with no database transaction', async () => {
    const sku = await addProduct(shop, 2);
    await order(shop, sku, 2).expect(201);
    const before = shop.stats.dbTransactions;
    expectError(await order(shop, sku, 1), 409);
    expect(shop.stats.dbTransactions).to.equal(before);
    expect(await figures(shop, sku)).to.deep.equal({ dbStock: 0, redis: 0, unitsOrdered: 2, orders: 1 });
  });

  it('more than the stock: 409, nothing taken', async () => {
    const sku = await addProduct(shop, 4);
    expectError(await order(shop, sku, 5), 409);
    expect(await figures(shop, sku)).to.deep.equal({ dbStock: 4, redis: 4, unitsOrdered: 0, orders: 0 });
  });

  it('unknown sku: 404 from the loader, nothing written to Redis', async () => {
    const sku = shop.sku('ghost');
    expectError(await order(shop, sku, 1), 404);
    expect(await shop.store.getStock(sku)).to.equal(null);
  });

  it('unlimited stock (-1) sells without a figure to take from', async () => {
    const sku = await addProduct(shop, -1);
    await order(shop, sku, 1000).expect(201);
    await order(shop, sku, 7).expect(201);
    expect(await figures(shop, sku)).to.deep.equal({ dbStock: -1, redis: -1, unitsOrdered: 1007, orders: 2 });
  });

  it('the database guard refuses what an over-stated Redis figure let through: 409', async () => {
    const sku = await addProduct(shop, 2);
    await shop.store.setStock(sku, 5); // Redis claims 3 units the database does not have
    await order(shop, sku, 1).expect(201);
    await order(shop, sku, 1).expect(201);
    expect(await figures(shop, sku)).to.deep.equal({ dbStock: 0, redis: 3, unitsOrdered: 2, orders: 2 });
    // Each refusal keeps its unit out of Redis, so the excess drains away.
    for (let i = 0; i < 3; i++) expectError(await order(shop, sku, 1), 409);
    expect(await figures(shop, sku)).to.deep.equal({ dbStock: 0, redis: 0, unitsOrdered: 2, orders: 2 });
  });

  it('a refusal gives back what the database still has, so Redis never drops below it', async () => {
    const sku = await addProduct(shop, 2);
    await shop.store.setStock(sku, 5);
    expectError(await order(shop, sku, 3), 409);
    // 5 - 3 reserved + 2 the database still has: excess 3 -> 2, and still >= 2.
    expect(await figures(shop, sku)).to.deep.equal({ dbStock: 2, redis: 4, unitsOrdered: 0, orders: 0 });
    await order(shop, sku, 2).expect(201);
    expect(await figures(shop, sku)).to.deep.equal({ dbStock: 0, redis: 2, unitsOrdered: 2, orders: 1 });
  });

  describe('bad bodies: 400 before anything is reserved', () => {
    const cases: [string, unknown][] = [
      ['no sku', { qty: 1 }],
      ['empty sku', { sku: '', qty: 1 }],
      ['sku with spaces', { sku: 'a b', qty: 1 }],
      ['sku too long', { sku: 'x'.repeat(65), qty: 1 }],
      ['no qty', { sku: 'x' }],
      ['qty 0', { sku: 'x', qty: 0 }],
      ['negative qty', { sku: 'x', qty: -2 }],
      ['fractional qty', { sku: 'x', qty: 1.5 }],
      ['qty as a string', { sku: 'x', qty: '2' }],
      ['payment not a string', { sku: 'x', qty: 1, payment: 3 }],
      ['an array', [{ sku: 'x', qty: 1 }]],
    ];
    for (const [name, body] of cases) {
      it(name, async () => {
        const before = shop.stats.dbTransactions;
        expectError(await request(shop.url).post('/orders').send(body as object), 400);
        expect(shop.stats.dbTransactions).to.equal(before);
      });
    }

    it('malformed JSON: 400 as JSON, not an HTML page', async () => {
      const res = await request(shop.url).post('/orders').set('content-type', 'application/json').send('{"sku": "x",');
      expectError(res, 400);
    });

    it('no JSON content type', async () => {
      expectError(await request(shop.url).post('/orders').set('content-type', 'text/plain').send('sku=x'), 400);
    });
  });

  it('unknown routes answer 404 as JSON; GET /stats counts transactions', async () => {
    expectError(await request(shop.url).get('/nowhere'), 404);
    const res = await request(shop.url).get('/stats').expect(200);
    expect(res.body).to.deep.equal(shop.stats);
    expect(res.body.dbTransactions).to.equal(shop.stats.dbTransactions);
  });
});
