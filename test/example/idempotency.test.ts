import { expect } from 'chai';
import { requestKey } from '../../lib/store/keys';
import { expectError } from './expect-error';
import { addProduct, figures, order, useShop, type Shop } from './shop';

/** A retried POST /orders with the same Idempotency-Key returns the same order, never a second one. */
describe('example app: idempotent POST /orders', function () {
  this.timeout(30_000);

  let shop: Shop;
  useShop((opened) => (shop = opened));

  it('a retry returns the same order id, and the database has one order', async () => {
    const sku = await addProduct(shop, 5);
    const first = await order(shop, sku, 2).set('Idempotency-Key', `checkout-${sku}`).expect(201);
    expect(first.body).to.deep.equal({ id: first.body.id, sku, qty: 2, status: 'paid' });
    const transactions = shop.stats.dbTransactions;
    for (let i = 0; i < 3; i++) {
      const retry = await order(shop, sku, 2).set('Idempotency-Key', `checkout-${sku}`);
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
    const first = await order(shop, sku, 2).set('Idempotency-Key', key).expect(201);
    await shop.redis.del(requestKey(shop.prefix, key));
    const retry = await order(shop, sku, 2).set('Idempotency-Key', key);
    expect(retry.status).to.equal(201);
    expect(retry.body).to.deep.equal(first.body);
    // Not a Redis replay: the order came from the database, and the retry's own hold went back.
    expect(retry.headers['idempotent-replayed']).to.equal(undefined);
    expect(await figures(shop, sku)).to.deep.equal({ dbStock: 3, redis: 3, unitsOrdered: 2, orders: 1 });
    // The same key for another order is refused by the database too.
    await shop.redis.del(requestKey(shop.prefix, key));
    expectError(await order(shop, sku, 1).set('Idempotency-Key', key), 422);
    expect(await figures(shop, sku)).to.deep.equal({ dbStock: 3, redis: 3, unitsOrdered: 2, orders: 1 });
  });

  it('a double submit (both at once): one order, the other answer a 409 or the same order', async () => {
    const sku = await addProduct(shop, 5);
    const key = `double-${sku}`;
    const [a, b] = await Promise.all([order(shop, sku, 1).set('Idempotency-Key', key), order(shop, sku, 1).set('Idempotency-Key', key)]);
    const answers = [a, b].sort((x, y) => x.status - y.status);
    expect(answers[0]?.status).to.equal(201);
    const [placed, other] = answers as [typeof a, typeof b];
    if (other.status === 409) expectError(other, 409);
    else expect(other.body).to.deep.equal(placed.body);
    // Once the first is done, a retry gets the order.
    const retry = await order(shop, sku, 1).set('Idempotency-Key', key).expect(201);
    expect(retry.body).to.deep.equal(placed.body);
    expect(await figures(shop, sku)).to.deep.equal({ dbStock: 4, redis: 4, unitsOrdered: 1, orders: 1 });
  });

  it('different keys are different orders', async () => {
    const sku = await addProduct(shop, 5);
    const one = await order(shop, sku, 1).set('Idempotency-Key', `one-${sku}`).expect(201);
    const two = await order(shop, sku, 1).set('Idempotency-Key', `two-${sku}`).expect(201);
    expect(two.body.id).to.not.equal(one.body.id);
    expect(await figures(shop, sku)).to.deep.equal({ dbStock: 3, redis: 3, unitsOrdered: 2, orders: 2 });
  });

  it('a declined payment is replayed to a retry with the same key; a new key can buy', async () => {
    const sku = await addProduct(shop, 3);
    const key = `declined-${sku}`;
    const first = await order(shop, sku, 2, 'decline').set('Idempotency-Key', key);
    expectError(first, 402);
    const retry = await order(shop, sku, 2, 'decline').set('Idempotency-Key', key);
    expectError(retry, 402);
    expect(retry.body).to.deep.equal(first.body);
    expect(retry.headers['idempotent-replayed']).to.equal('true');
    expect(await figures(shop, sku)).to.deep.equal({ dbStock: 3, redis: 3, unitsOrdered: 0, orders: 0 });
    await order(shop, sku, 2).set('Idempotency-Key', `paid-${sku}`).expect(201);
    expect(await figures(shop, sku)).to.deep.equal({ dbStock: 1, redis: 1, unitsOrdered: 2, orders: 1 });
  });

  it('a declined payment retried with the same key and another payment method: 422, not the 402 again, nothing ordered', async () => {
    const sku = await addProduct(shop, 3);
    const key = `switch-${sku}`;
    expectError(await order(shop, sku, 2, 'decline').set('Idempotency-Key', key), 402);
    const transactions = shop.stats.dbTransactions;
    const retry = await order(shop, sku, 2, 'card').set('Idempotency-Key', key);
    expectError(retry, 422);
    expect(retry.body.error.message).to.match(/used for another request/);
    expect(shop.stats.dbTransactions).to.equal(transactions);
    expect(await figures(shop, sku)).to.deep.equal({ dbStock: 3, redis: 3, unitsOrdered: 0, orders: 0 });
    // Paying by card takes a new key.
    await order(shop, sku, 2, 'card').set('Idempotency-Key', `${key}-card`).expect(201);
    expect(await figures(shop, sku)).to.deep.equal({ dbStock: 1, redis: 1, unitsOrdered: 2, orders: 1 });
  });

  it('the same key for another quantity or sku: 422 as JSON, nothing ordered', async () => {
    const sku = await addProduct(shop, 5);
    const other = await addProduct(shop, 5);
    const key = `reused-${sku}`;
    await order(shop, sku, 1).set('Idempotency-Key', key).expect(201);
    expectError(await order(shop, sku, 2).set('Idempotency-Key', key), 422);
    expectError(await order(shop, other, 1).set('Idempotency-Key', key), 422);
    expect(await figures(shop, sku)).to.deep.equal({ dbStock: 4, redis: 4, unitsOrdered: 1, orders: 1 });
    expect(await figures(shop, other)).to.deep.include({ dbStock: 5, orders: 0 });
  });

  it('a bad Idempotency-Key is a 400 as JSON, nothing ordered', async () => {
    const sku = await addProduct(shop, 5);
    expectError(await order(shop, sku, 1).set('Idempotency-Key', 'has spaces in it'), 400);
    expectError(await order(shop, sku, 1).set('Idempotency-Key', 'x'.repeat(300)), 400);
    expect(await figures(shop, sku)).to.deep.include({ dbStock: 5, orders: 0 });
  });
});
