/**
 * The example's customer identity (example/customer.ts), the stand-in for a
 * shop's session: a signed, HttpOnly cookie set on a browser's first visit,
 * and `X-Customer-Id` only with the admin token; each order row keeps it.
 */
import { expect } from 'chai';
import request from 'supertest';
import { expectError } from './expect-error';
import { addProduct, useShop, type Shop } from './shop';

/** The `customer` cookie a response sets: its value as sent and its attributes, or undefined. */
function setCookie(res: request.Response): { value: string; attributes: string[] } | undefined {
  const header = ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith('customer='));
  if (!header) return undefined;
  const [pair, ...attributes] = header.split(/; */);
  return { value: (pair as string).slice('customer='.length), attributes: attributes.map((a) => a.toLowerCase()) };
}

describe('example app: the customer', function () {
  this.timeout(30_000);
  let shop: Shop;
  useShop((opened) => (shop = opened));

  async function customerOf(orderId: number): Promise<string | null | undefined> {
    return (await shop.db.Order.findByPk(orderId))?.customer;
  }

  it('a first visit gets a signed, HttpOnly cookie; the browser\'s orders carry that customer, and no new cookie', async () => {
    const first = await request(shop.url).get('/').expect(200);
    const cookie = setCookie(first);
    expect(cookie, 'Set-Cookie on the first visit').to.not.equal(undefined);
    const { value, attributes } = cookie as { value: string; attributes: string[] };
    // Signed: "s:<id>.<signature>", URL-encoded.
    const id = /^s%3A(c-[A-Za-z0-9_-]{22})\.[^.]+$/.exec(value)?.[1];
    expect(id, value).to.be.a('string');
    expect(attributes).to.include.members(['httponly', 'samesite=lax', 'path=/']);
    expect(attributes.some((a) => a.startsWith('max-age='))).to.equal(true);

    const sku = await addProduct(shop, 5, 'customer');
    const agent = request.agent(shop.url);
    agent.jar.setCookie(`customer=${value}`);
    const placed = await agent.post('/orders').send({ sku, qty: 1 }).expect(201);
    expect(setCookie(placed)).to.equal(undefined);
    expect(await customerOf(placed.body.id as number)).to.equal(id);
    const again = await agent.post('/carts/checkout').send({ items: [{ sku, qty: 2 }] }).expect(201);
    expect(await customerOf(again.body.orders[0].id as number)).to.equal(id);
  });

  it('a forged or tampered cookie is not taken: a new customer, a new cookie', async () => {
    const sku = await addProduct(shop, 5, 'forged');
    for (const forged of ['c-someone-else', 's%3Ac-someone-else.bad-signature']) {
      const res = await request(shop.url).post('/orders').set('Cookie', `customer=${forged}`).send({ sku, qty: 1 }).expect(201);
      const customer = await customerOf(res.body.id as number);
      expect(customer).to.match(/^c-[A-Za-z0-9_-]{22}$/);
      expect(customer).to.not.equal('c-someone-else');
      expect(setCookie(res)?.value).to.include(customer as string);
    }
  });

  it('X-Customer-Id names the customer with the admin token; without it 401, with a wrong one 403, a bad id 400', async () => {
    const sku = await addProduct(shop, 5, 'named');
    const named = await request(shop.url)
      .post('/orders')
      .set('Authorization', `Bearer ${shop.adminToken}`)
      .set('X-Customer-Id', 'load-tool-7')
      .send({ sku, qty: 1 })
      .expect(201);
    expect(await customerOf(named.body.id as number)).to.equal('load-tool-7');
    expect(setCookie(named)).to.equal(undefined);

    const post = () => request(shop.url).post('/orders').send({ sku, qty: 1 });
    expectError(await post().set('X-Customer-Id', 'load-tool-7'), 401);
    expectError(await post().set('X-Customer-Id', 'load-tool-7').set('Authorization', 'Bearer guess'), 403);
    expectError(await post().set('X-Customer-Id', 'has space').set('Authorization', `Bearer ${shop.adminToken}`), 400);
    expect(await shop.db.Order.count({ where: { sku } })).to.equal(1);
  });
});
