import { expect } from 'chai';
import request from 'supertest';
import { createApp } from '../../example/app';
import { expectError } from './expect-error';
import { addProduct, figures, order, useShop, type Shop } from './shop';

describe('example app: admin routes need ADMIN_TOKEN', () => {
  let shop: Shop;
  useShop((opened) => (shop = opened));

  /** Authorization headers that must not pass: [label, header or undefined, status]. */
  const refused: [string, string | undefined, 401 | 403][] = [
    ['no Authorization header', undefined, 401],
    ['another scheme', 'Basic YWRtaW46YWRtaW4=', 401],
    ['Bearer without a token', 'Bearer ', 401],
    ['a wrong token', 'Bearer not-the-token', 403],
    ['the token with a character more', 'Bearer {token}x', 403],
    ['a prefix of the token', 'Bearer {token-prefix}', 403],
  ];

  function send(test: request.Test, header: string | undefined): request.Test {
    if (header === undefined) return test;
    return test.set('Authorization', header.replace('{token}', shop.adminToken).replace('{token-prefix}', shop.adminToken.slice(0, 8)));
  }

  for (const [label, header, status] of refused) {
    it(`${label}: ${status}, nothing created or restocked`, async () => {
      const sku = shop.sku('guarded');
      const created = await send(request(shop.url).post('/products'), header).send({ sku, name: 'Nope', stock: 5 });
      expectError(created, status);
      if (status === 401) expect(created.headers['www-authenticate']).to.equal('Bearer');
      expect(await shop.db.Product.count({ where: { sku } })).to.equal(0);

      const stocked = await addProduct(shop, 2, 'guarded');
      await order(shop, stocked, 1).expect(201); // loads the Redis figure
      expectError(await send(request(shop.url).post(`/products/${stocked}/restock`), header).send({ qty: 10 }), status);
      expect(await figures(shop, stocked)).to.deep.equal({ dbStock: 1, redis: 1, unitsOrdered: 1, orders: 1 });
    });
  }

  it('the right token, any case of "Bearer": the write goes through', async () => {
    const sku = shop.sku('admin');
    await request(shop.url).post('/products').set('Authorization', `bearer ${shop.adminToken}`).send({ sku, name: 'Yes', stock: 1 }).expect(201);
  });

  it('an app made without adminToken is closed too: it makes a random token and returns it', async () => {
    const { app, adminToken } = createApp({ db: shop.db, redis: shop.redis, prefix: shop.prefix });
    expect(adminToken).to.be.a('string').with.length.above(20);
    const sku = shop.sku('closed');
    expectError(await request(app).post('/products').send({ sku, name: 'Nope', stock: 1 }), 401);
    await request(app).post('/products').set('Authorization', `Bearer ${adminToken}`).send({ sku, name: 'Yes', stock: 1 }).expect(201);
    expect(createApp({ db: shop.db, redis: shop.redis }).adminToken).not.to.equal(adminToken);
  });

  it('buyers need no token: the catalogue, a product, an order', async () => {
    const sku = await addProduct(shop, 1, 'open');
    const list = await request(shop.url).get('/products').expect(200);
    expect((list.body as { sku: string }[]).map((p) => p.sku)).to.include(sku);
    await request(shop.url).get(`/products/${sku}`).expect(200);
    await order(shop, sku, 1).expect(201);
  });

  it('security headers on every answer: a page, JSON, an error', async () => {
    for (const path of ['/', '/products', '/nowhere']) {
      const res = await request(shop.url).get(path);
      expect(res.headers['content-security-policy'], path).to.include("default-src 'self'");
      expect(res.headers['x-content-type-options'], path).to.equal('nosniff');
      expect(res.headers['x-frame-options'], path).to.equal('SAMEORIGIN');
      expect(res.headers['x-powered-by'], path).to.equal(undefined);
    }
  });
});
