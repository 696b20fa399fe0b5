/**
 * One spelling per product, end to end: the database compares skus (and
 * Idempotency-Keys) byte for byte, as Redis keys do. Before, the sku column's
 * case- and accent-blind collation let `MUG-LOGO` or `mug-lögo` load their
 * own Redis figure from the `mug-logo` row and order from it, so a sale over
 * several spellings passed the gate and met only the database's guard.
 */
import { expect } from 'chai';
import request from 'supertest';
import { expectError } from './expect-error';
import { addProduct, adminPost, asCustomer, figures, inParallel, order, useShop, type Shop } from './shop';

describe('example app: one spelling per product', function () {
  this.timeout(60_000);
  let shop: Shop;
  useShop((opened) => (shop = opened));

  /** Spellings the old collation took for `sku` (upper and mixed case, accents precomposed and combining). */
  function variants(sku: string): string[] {
    const upper = sku.toUpperCase();
    const mixed = sku.replace(/^./, (c) => c.toUpperCase());
    const accented = sku.replace('u', 'ü');
    const combining = sku.replace('u', 'u\u0308');
    return [upper, mixed, accented, combining];
  }

  it('orders through case and accent variants: 404s, no second Redis figure, the database guard never reached', async () => {
    const sku = await addProduct(shop, 8, 'mug');
    await order(shop, sku, 1).expect(201);
    const before = { ...shop.stats };
    const spellings = variants(sku);
    const answers = await inParallel(40, 10, async (i) => order(shop, spellings[i % spellings.length] as string, 1));
    for (const res of answers) expectError(res, 404);
    for (const spelling of spellings) expect(await shop.store.getStock(spelling), spelling).to.equal(null);
    // Not one of them opened a transaction, let alone met the guard.
    expect(shop.stats).to.deep.equal(before);
    expect(await figures(shop, sku)).to.deep.equal({ dbStock: 7, redis: 7, unitsOrdered: 1, orders: 1 });
    // A cart with a variant line takes nothing either.
    expectError(await request(shop.url).post('/carts/checkout').send({ items: [{ sku, qty: 1 }, { sku: spellings[0], qty: 1 }] }), 404);
    expect(await figures(shop, sku)).to.deep.equal({ dbStock: 7, redis: 7, unitsOrdered: 1, orders: 1 });
  });

  it('a sale over every spelling sells exactly the product\'s stock, all of it refused by Redis past that', async () => {
    const sku = await addProduct(shop, 6, 'sale');
    const spellings = [sku, ...variants(sku)];
    const before = { ...shop.stats };
    const answers = await inParallel(60, 15, async (i) => (await order(shop, spellings[i % spellings.length] as string, 1)).status);
    expect(answers.filter((s) => s === 201)).to.have.length(6);
    expect(answers.filter((s) => s !== 201 && s !== 404 && s !== 409)).to.deep.equal([]);
    // Every transaction was a sale: none was the guard turning away what Redis over-stated.
    expect(shop.stats.dbTransactions - before.dbTransactions).to.equal(6);
    expect(shop.stats.guardRefusals).to.equal(before.guardRefusals);
    const rows = await shop.db.Order.findAll({ where: { sku } });
    expect(rows.map((row) => row.sku)).to.deep.equal(Array(6).fill(sku));
    expect(await figures(shop, sku)).to.deep.equal({ dbStock: 0, redis: 0, unitsOrdered: 6, orders: 6 });
  });

  it('a spelling that differs is another product: its own row, its own figure', async () => {
    const lower = await addProduct(shop, 3, 'cap');
    const upper = lower.toUpperCase();
    try {
      await adminPost(shop, '/products').send({ sku: upper, name: 'Loud cap', stock: 5 }).expect(201);
      await order(shop, upper, 2).expect(201);
      await order(shop, lower, 1).expect(201);
      expect(await figures(shop, lower)).to.deep.equal({ dbStock: 2, redis: 2, unitsOrdered: 1, orders: 1 });
      expect(await figures(shop, upper)).to.deep.equal({ dbStock: 3, redis: 3, unitsOrdered: 2, orders: 1 });
    } finally {
      // The shop removes the skus it made; this one the test made itself.
      await shop.db.Order.destroy({ where: { sku: upper } });
      await shop.db.Product.destroy({ where: { sku: upper } });
    }
  });

  it('Idempotency-Keys that differ only in case are two keys, in Redis and in the database alike', async () => {
    const sku = await addProduct(shop, 5, 'keys');
    const key = `Key-${sku}`;
    // One customer's keys: a key is compared within its customer's.
    const customer = `keys-${sku}`;
    const first = await asCustomer(shop, customer, order(shop, sku, 1)).set('Idempotency-Key', key).expect(201);
    const second = await asCustomer(shop, customer, order(shop, sku, 1)).set('Idempotency-Key', key.toLowerCase()).expect(201);
    expect(second.body.id).to.not.equal(first.body.id);
    expect(await figures(shop, sku)).to.deep.equal({ dbStock: 3, redis: 3, unitsOrdered: 2, orders: 2 });
  });
});
