/**
 * A retried POST /orders with the same Idempotency-Key returns the same
 * order, never a second one; keys belong to their customer
 * (example/customer.ts), so the same key from two customers is two orders.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import request from 'supertest';
import { requestKey } from '../../lib/store/keys';
import { expectError } from './expect-error';
import { addProduct, asCustomer, figures, order, useShop, type Shop } from './shop';

describe('example app: idempotent POST /orders', function () {
  this.timeout(30_000);

  let shop: Shop;
  useShop((opened) => (shop = opened));

  /** The customer of these tests' retries: a retry is the same customer's, whose key it is. */
  const customer = `idem-${randomBytes(4).toString('hex')}`;
  const buy = (sku: string, qty?: number, payment?: string) => asCustomer(shop, customer, order(shop, sku, qty, payment));
  const recordOf = (key: string) => requestKey(shop.prefix, key, customer);

  it('a retry returns the same order id, and the database has one order', async () => {
    const sku = await addProduct(shop, 5);
    const first = await buy(sku, 2).set('Idempotency-Key', `checkout-${sku}`).expect(201);
    expect(first.body).to.deep.equal({ id: first.body.id, sku, qty: 2, status: 'paid' });
    const transactions = shop.stats.dbTransactions;
    for (let i = 0; i < 3; i++) {
      const retry = await buy(sku, 2).set('Idempotency-Key', `checkout-${sku}`);
      expect(retry.status).to.equal(201);
      expect(retry.body).to.deep.equal(first.body);
      expect(retry.headers['idempotent-replayed']).to.equal('true');
    }
    expect(shop.stats.dbTransactions).to.equal(transactions);
    expect(await figures(shop, sku)).to.deep.equal({ dbStock: 3, redis: 3, unitsOrdered: 2, orders: 1 });
  });

  it('a retry after Redis lost the key\'s record (a flush): the database returns the same order, units taken once', async () => {
    const sku = await addProduct(shop, 5);
    const key = `lost-${sku}`;
    const first = await buy(sku, 2).set('Idempotency-Key', key).expect(201);
    await shop.redis.del(recordOf(key));
    const retry = await buy(sku, 2).set('Idempotency-Key', key);
    expect(retry.status).to.equal(201);
    expect(retry.body).to.deep.equal(first.body);
    // Not a Redis replay: the order came from the database, and the retry's own hold went back.
    expect(retry.headers['idempotent-replayed']).to.equal(undefined);
    expect(await figures(shop, sku)).to.deep.equal({ dbStock: 3, redis: 3, unitsOrdered: 2, orders: 1 });
    // The same key for another order is refused by the database too.
    await shop.redis.del(recordOf(key));
    expectError(await buy(sku, 1).set('Idempotency-Key', key), 422);
    expect(await figures(shop, sku)).to.deep.equal({ dbStock: 3, redis: 3, unitsOrdered: 2, orders: 1 });
  });

  it('a double submit (both at once): one order, the other answer a 409 or the same order', async () => {
    const sku = await addProduct(shop, 5);
    const key = `double-${sku}`;
    const [a, b] = await Promise.all([buy(sku, 1).set('Idempotency-Key', key), buy(sku, 1).set('Idempotency-Key', key)]);
    const answers = [a, b].sort((x, y) => x.status - y.status);
    expect(answers[0]?.status).to.equal(201);
    const [placed, other] = answers as [typeof a, typeof b];
    if (other.status === 409) expectError(other, 409);
    else expect(other.body).to.deep.equal(placed.body);
    // Once the first is done, a retry gets the order.
    const retry = await buy(sku, 1).set('Idempotency-Key', key).expect(201);
    expect(retry.body).to.deep.equal(placed.body);
    expect(await figures(shop, sku)).to.deep.equal({ dbStock: 4, redis: 4, unitsOrdered: 1, orders: 1 });
  });

  it('different keys are different orders', async () => {
    const sku = await addProduct(shop, 5);
    const one = await buy(sku, 1).set('Idempotency-Key', `one-${sku}`).expect(201);
    const two = await buy(sku, 1).set('Idempotency-Key', `two-${sku}`).expect(201);
    expect(two.body.id).to.not.equal(one.body.id);
    expect(await figures(shop, sku)).to.deep.equal({ dbStock: 3, redis: 3, unitsOrdered: 2, orders: 2 });
  });

  it('a declined payment is replayed to a retry with the same key; a new key can buy', async () => {
    const sku = await addProduct(shop, 3);
    const key = `declined-${sku}`;
    const first = await buy(sku, 2, 'decline').set('Idempotency-Key', key);
    expectError(first, 402);
    const retry = await buy(sku, 2, 'decline').set('Idempotency-Key', key);
    expectError(retry, 402);
    expect(retry.body).to.deep.equal(first.body);
    expect(retry.headers['idempotent-replayed']).to.equal('true');
    expect(await figures(shop, sku)).to.deep.equal({ dbStock: 3, redis: 3, unitsOrdered: 0, orders: 0 });
    await buy(sku, 2).set('Idempotency-Key', `paid-${sku}`).expect(201);
    expect(await figures(shop, sku)).to.deep.equal({ dbStock: 1, redis: 1, unitsOrdered: 2, orders: 1 });
  });

  it('a declined payment retried with the same key and another payment method: 422, not the 402 again, nothing ordered', async () => {
    const sku = await addProduct(shop, 3);
    const key = `switch-${sku}`;
    expectError(await buy(sku, 2, 'decline').set('Idempotency-Key', key), 402);
    const transactions = shop.stats.dbTransactions;
    const retry = await buy(sku, 2, 'card').set('Idempotency-Key', key);
    expectError(retry, 422);
    expect(retry.body.error.message).to.match(/used for another request/);
    expect(shop.stats.dbTransactions).to.equal(transactions);
    expect(await figures(shop, sku)).to.deep.equal({ dbStock: 3, redis: 3, unitsOrdered: 0, orders: 0 });
    // Paying by card takes a new key.
    await buy(sku, 2, 'card').set('Idempotency-Key', `${key}-card`).expect(201);
    expect(await figures(shop, sku)).to.deep.equal({ dbStock: 1, redis: 1, unitsOrdered: 2, orders: 1 });
  });

  it('the same key for another quantity or sku: 422 as JSON, nothing ordered', async () => {
    const sku = await addProduct(shop, 5);
    const other = await addProduct(shop, 5);
    const key = `reused-${sku}`;
    await buy(sku, 1).set('Idempotency-Key', key).expect(201);
    expectError(await buy(sku, 2).set('Idempotency-Key', key), 422);
    expectError(await buy(other, 1).set('Idempotency-Key', key), 422);
    expect(await figures(shop, sku)).to.deep.equal({ dbStock: 4, redis: 4, unitsOrdered: 1, orders: 1 });
    expect(await figures(shop, other)).to.deep.include({ dbStock: 5, orders: 0 });
  });

  it('a bad Idempotency-Key is a 400 as JSON, nothing ordered', async () => {
    const sku = await addProduct(shop, 5);
    expectError(await buy(sku, 1).set('Idempotency-Key', 'has spaces in it'), 400);
    expectError(await buy(sku, 1).set('Idempotency-Key', 'x'.repeat(300)), 400);
    expect(await figures(shop, sku)).to.deep.include({ dbStock: 5, orders: 0 });
  });
});

/**
 * Keys are scoped by customer (`idempotencyScope` on both order routes, and
 * the orders table unique per customer and key): two customers who send the
 * same Idempotency-Key and body each get an order of their own, and keep
 * getting their own, from Redis's record or, once Redis has lost it, from
 * the database; nobody's retry buys twice.
 */
describe('example app: Idempotency-Keys belong to their customer', function () {
  this.timeout(30_000);

  let shop: Shop;
  useShop((opened) => (shop = opened));

  /** A customer as the app knows them: how their requests are sent, and their id once known. */
  interface Buyer {
    post(path: string): request.Test;
    id(orderId: number): Promise<string>;
  }

  /** A customer named by X-Customer-Id with the admin token. */
  function named(id: string): Buyer {
    return {
      post: (path) => asCustomer(shop, id, request(shop.url).post(path)),
      id: () => Promise.resolve(id),
    };
  }

  /** A browser: the signed cookie of its first visit, sent with every request after. */
  async function browser(): Promise<Buyer> {
    const agent = request.agent(shop.url);
    await agent.get('/').expect(200);
    return {
      post: (path) => agent.post(path),
      id: async (orderId) => (await shop.db.Order.findByPk(orderId))?.customer as string,
    };
  }

  /**
   * Alice and Bob each send `send` with one key: two orders; their retries
   * replay their own; with both records gone from Redis, each retry gets its
   * own order back from the database; nothing is bought twice.
   */
  async function twoCustomersOneKey(alice: Buyer, bob: Buyer, route: 'orders' | 'carts'): Promise<void> {
    const sku = await addProduct(shop, 10, `scope-${route}`);
    const key = `shared-${sku}`;
    const post = (buyer: Buyer) =>
      (route === 'orders' ? buyer.post('/orders').send({ sku, qty: 2 }) : buyer.post('/carts/checkout').send({ items: [{ sku, qty: 2 }] })).set(
        'Idempotency-Key',
        key,
      );
    const idOf = (res: request.Response) => (route === 'orders' ? res.body.id : res.body.orders[0].id) as number;

    const a = await post(alice).expect(201);
    const b = await post(bob).expect(201);
    expect(b.headers['idempotent-replayed'], "Bob is not given Alice's answer").to.equal(undefined);
    expect(idOf(b)).to.not.equal(idOf(a));
    const [aliceId, bobId] = [await alice.id(idOf(a)), await bob.id(idOf(b))];
    expect(aliceId).to.not.equal(bobId);
    expect((await shop.db.Order.findByPk(idOf(a)))?.customer).to.equal(aliceId);
    expect((await shop.db.Order.findByPk(idOf(b)))?.customer).to.equal(bobId);
    expect(await figures(shop, sku)).to.deep.equal({ dbStock: 6, redis: 6, unitsOrdered: 4, orders: 2 });

    // Retries: each replays its own customer's answer from Redis.
    for (const [buyer, first] of [
      [alice, a],
      [bob, b],
    ] as const) {
      const retry = await post(buyer).expect(201);
      expect(retry.headers['idempotent-replayed']).to.equal('true');
      expect(retry.body).to.deep.equal(first.body);
    }

    // Redis loses both records: the database answers each retry with that customer's own order.
    for (const id of [aliceId, bobId]) expect(await shop.redis.del(requestKey(shop.prefix, key, id))).to.equal(1);
    const repeatedBefore = shop.stats.repeated;
    const bobAgain = await post(bob).expect(201);
    const aliceAgain = await post(alice).expect(201);
    expect(bobAgain.headers['idempotent-replayed']).to.equal(undefined);
    expect(bobAgain.body).to.deep.equal(b.body);
    expect(aliceAgain.body).to.deep.equal(a.body);
    expect(shop.stats.repeated - repeatedBefore, 'answered from the database as repeats').to.equal(2);
    expect(await figures(shop, sku)).to.deep.equal({ dbStock: 6, redis: 6, unitsOrdered: 4, orders: 2 });
  }

  it('POST /orders, customers named by X-Customer-Id with the admin token', async () => {
    const run = randomBytes(4).toString('hex');
    await twoCustomersOneKey(named(`alice-${run}`), named(`bob-${run}`), 'orders');
  });

  it('POST /orders, two browsers with their cookies', async () => {
    await twoCustomersOneKey(await browser(), await browser(), 'orders');
  });

  it('POST /carts/checkout, customers named by X-Customer-Id, and two browsers', async () => {
    const run = randomBytes(4).toString('hex');
    await twoCustomersOneKey(named(`alice-${run}`), named(`bob-${run}`), 'carts');
    await twoCustomersOneKey(await browser(), await browser(), 'carts');
  });

  it('a request that names no customer (no cookie yet) is a new customer: its retries must bring the cookie it was given', async () => {
    const sku = await addProduct(shop, 10, 'scope-first-visit');
    const key = `first-visit-${sku}`;
    const first = await order(shop, sku, 1).set('Idempotency-Key', key).expect(201);
    const cookie = ([] as string[]).concat(first.headers['set-cookie'] ?? []).find((c) => c.startsWith('customer='));
    expect(cookie, 'Set-Cookie on the first order').to.be.a('string');
    // The same key without the cookie: another customer, another order.
    const stranger = await order(shop, sku, 1).set('Idempotency-Key', key).expect(201);
    expect(stranger.body.id).to.not.equal(first.body.id);
    // With it: the first customer's retry.
    const retry = await order(shop, sku, 1).set('Idempotency-Key', key).set('Cookie', (cookie as string).split(';')[0] as string).expect(201);
    expect(retry.headers['idempotent-replayed']).to.equal('true');
    expect(retry.body).to.deep.equal(first.body);
    expect(await figures(shop, sku)).to.deep.include({ dbStock: 8, orders: 2 });
  });
});
