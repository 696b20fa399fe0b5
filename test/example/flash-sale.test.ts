import { expect } from 'chai';
import { addProduct, figures, inParallel, order, stockKey, useShop, type Shop } from './shop';

/** One buyer's outcome. */
interface Answer {
  status: number;
  qty: number;
}

describe('example app: flash sale', function () {
  this.timeout(60_000);
  let shop: Shop;
  useShop((opened) => (shop = opened));

  const count = (answers: Answer[], status: number) => answers.filter((a) => a.status === status).length;
  const units = (answers: Answer[], status: number) =>
    answers.filter((a) => a.status === status).reduce((sum, a) => sum + a.qty, 0);

  it('40 units, 200 concurrent buyers of 1-3 units, a quarter declining: the books balance exactly', async () => {
    const initial = 40;
    const sku = await addProduct(shop, initial, 'sale');
    const transactionsBefore = shop.stats.dbTransactions;
    const answers = await inParallel(200, 50, async (i): Promise<Answer> => {
      const qty = 1 + (i % 3);
      const res = await order(shop, sku, qty, i % 4 === 3 ? 'decline' : 'card');
      return { status: res.status, qty };
    });
    expect(count(answers, 201) + count(answers, 409) + count(answers, 402)).to.equal(200);

    const settled = await figures(shop, sku);
    expect(settled.dbStock).to.be.at.least(0);
    expect(settled.unitsOrdered).to.equal(initial - settled.dbStock);
    expect(settled.unitsOrdered).to.equal(units(answers, 201));
    expect(settled.orders).to.equal(count(answers, 201));
    // Redis and the database agree once every answer is in.
    expect(settled.redis).to.equal(settled.dbStock);
    // Only the buyers that held units reached the database: 201s and 402s, no sold-out traffic.
    expect(shop.stats.dbTransactions - transactionsBefore).to.equal(count(answers, 201) + count(answers, 402));

    // Selling what is left reaches exactly the initial stock.
    if (settled.dbStock > 0) await order(shop, sku, settled.dbStock).expect(201);
    expect(await figures(shop, sku)).to.deep.equal({
      dbStock: 0,
      redis: 0,
      unitsOrdered: initial,
      orders: settled.orders + (settled.dbStock > 0 ? 1 : 0),
    });
    await order(shop, sku, 1).expect(409);
  });

  it('the Redis figure deleted mid-sale is reloaded from the database, and nothing is oversold', async () => {
    const initial = 60;
    const sku = await addProduct(shop, initial, 'flush');
    let answered = 0;
    const answers = await inParallel(300, 50, async (i): Promise<Answer> => {
      const res = await order(shop, sku, 1, i % 5 === 4 ? 'decline' : 'card');
      // Mid-sale, with 50 orders in flight: the figure vanishes (eviction, a flush, an expiry).
      if (++answered === 60) await shop.redis.del(stockKey(shop, sku));
      return { status: res.status, qty: 1 };
    });
    const initialised = shop.events.filter((e) => e.type === 'initialised' && e.key === sku);
    expect(initialised, 'loaded at the start and again after the delete').to.have.length(2);

    const settled = await figures(shop, sku);
    expect(settled.dbStock).to.be.at.least(0);
    expect(settled.unitsOrdered).to.equal(initial - settled.dbStock);
    expect(settled.unitsOrdered).to.equal(units(answers, 201));
    // The reload counted units that orders in flight held, so Redis may
    // over-state (the database guard answers 409 for those), never under-state.
    expect(settled.redis).to.be.a('number').and.at.least(settled.dbStock);

    // Buying one unit at a time sells exactly the rest, and drains the excess.
    let sold = settled.unitsOrdered;
    for (let i = 0; i < 2 * initial && (await figures(shop, sku)).redis !== 0; i++) {
      const res = await order(shop, sku, 1);
      expect(res.status).to.be.oneOf([201, 409]);
      if (res.status === 201) sold++;
    }
    expect(await figures(shop, sku)).to.deep.include({ dbStock: 0, redis: 0, unitsOrdered: initial });
    expect(sold).to.equal(initial);
    await order(shop, sku, 1).expect(409);
  });
});
