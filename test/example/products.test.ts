import { expect } from 'chai';
import request from 'supertest';
import { expectError } from './expect-error';
import { addProduct, adminPost, figures, order, useShop, type Shop } from './shop';

describe('example app: products and restock', () => {
  let shop: Shop;
  useShop((opened) => (shop = opened));

  it('POST /products: 201 with the product; the same sku again: 409', async () => {
    const sku = shop.sku('new');
    const res = await adminPost(shop, '/products').send({ sku, name: 'Blue cap', stock: 12 }).expect(201);
    expect(res.body).to.deep.equal({ sku, name: 'Blue cap', stock: 12, perCustomerLimit: null });
    expectError(await adminPost(shop, '/products').send({ sku, name: 'Other', stock: 1 }), 409);
    expect((await figures(shop, sku)).dbStock).to.equal(12);
  });

  describe('POST /products with a bad body: 400, nothing created', () => {
    const cases: [string, Record<string, unknown>][] = [
      ['no name', { stock: 1 }],
      ['empty name', { name: '  ', stock: 1 }],
      ['stock below -1', { name: 'n', stock: -2 }],
      ['fractional stock', { name: 'n', stock: 2.5 }],
      ['stock as a string', { name: 'n', stock: '3' }],
      ['stock past the INT column', { name: 'n', stock: 2 ** 31 }],
    ];
    for (const [label, body] of cases) {
      it(label, async () => {
        const sku = shop.sku('bad');
        expectError(await adminPost(shop, '/products').send({ sku, ...body }), 400);
        expect(await shop.db.Product.count({ where: { sku } })).to.equal(0);
      });
    }
    it('no sku', async () => {
      expectError(await adminPost(shop, '/products').send({ name: 'n', stock: 1 }), 400);
    });
  });

  it('GET /products/:sku: stock from the database, available from Redis (null until loaded)', async () => {
    const sku = await addProduct(shop, 10);
    const before = await request(shop.url).get(`/products/${sku}`).expect(200);
    expect(before.body).to.deep.equal({ sku, name: `Test ${sku}`, stock: 10, perCustomerLimit: null, available: null });
    await order(shop, sku, 4).expect(201);
    const after = await request(shop.url).get(`/products/${sku}`).expect(200);
    expect(after.body).to.deep.equal({ sku, name: `Test ${sku}`, stock: 6, perCustomerLimit: null, available: 6 });
  });

  it('GET /products/:sku unknown: 404', async () => {
    expectError(await request(shop.url).get(`/products/${shop.sku('ghost')}`), 404);
  });

  it('restock of a loaded product adds to the database and to Redis', async () => {
    const sku = await addProduct(shop, 3);
    await order(shop, sku, 3).expect(201);
    expectError(await order(shop, sku, 1), 409);
    const res = await adminPost(shop, `/products/${sku}/restock`).send({ qty: 5 }).expect(200);
    expect(res.body).to.deep.equal({ sku, name: `Test ${sku}`, stock: 5, perCustomerLimit: null, available: 5 });
    await order(shop, sku, 5).expect(201);
    expect(await figures(shop, sku)).to.deep.equal({ dbStock: 0, redis: 0, unitsOrdered: 8, orders: 2 });
  });

  it('restock of a product Redis has not loaded: database only, the loader reads it later', async () => {
    const sku = await addProduct(shop, 1);
    const res = await adminPost(shop, `/products/${sku}/restock`).send({ qty: 4 }).expect(200);
    expect(res.body).to.deep.equal({ sku, name: `Test ${sku}`, stock: 5, perCustomerLimit: null, available: null });
    await order(shop, sku, 5).expect(201);
    expect(await figures(shop, sku)).to.deep.equal({ dbStock: 0, redis: 0, unitsOrdered: 5, orders: 1 });
  });

  it('restock errors: unknown 404, bad qty 400, unlimited 409 (all JSON, nothing changed)', async () => {
    expectError(await adminPost(shop, `/products/${shop.sku('ghost')}/restock`).send({ qty: 1 }), 404);
    const sku = await addProduct(shop, 2);
    for (const qty of [0, -1, 1.5, '3', undefined]) {
      expectError(await adminPost(shop, `/products/${sku}/restock`).send({ qty }), 400);
    }
    const unlimited = await addProduct(shop, -1);
    expectError(await adminPost(shop, `/products/${unlimited}/restock`).send({ qty: 1 }), 409);
    expect((await figures(shop, sku)).dbStock).to.equal(2);
    expect((await figures(shop, unlimited)).dbStock).to.equal(-1);
  });

  it('restock past the INT column: 409, stock unchanged', async () => {
    const sku = await addProduct(shop, 2 ** 31 - 10);
    expectError(await adminPost(shop, `/products/${sku}/restock`).send({ qty: 11 }), 409);
    expect((await figures(shop, sku)).dbStock).to.equal(2 ** 31 - 10);
  });
});
