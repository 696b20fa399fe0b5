/**
 * The example's two-phase commit of holds: an order row names its hold, the
 * hold is prepared inside the order's transaction, and a worker that dies
 * between the database commit and the hold's commit leaves the hold in
 * doubt, which the sweep settles against the orders table: no units come
 * back for an order that committed, every unit comes back for one that did
 * not, and an order still committing is waited for.
 */
import { expect } from 'chai';
import type { Transaction } from 'sequelize';
import { resolveInDoubtOrders } from '../../example/in-doubt';
import { loadStock, takeStock } from '../../example/checkout';
import { held, sleepPast } from '../helpers/holds';
import { addProduct, figures, order, useShop, type Shop } from './shop';

describe('example: in-doubt holds of a worker that died mid-order', function () {
  this.timeout(30_000);
  let shop: Shop;
  useShop((opened) => (shop = opened));

  /** What the order route does up to the database commit, with a 1 s hold and no hold commit after: the worker "dies". */
  async function orderThenDie(sku: string, qty: number, inside?: (transaction: Transaction) => Promise<void>) {
    const hold = held(await shop.store.reserve(sku, qty, (key) => loadStock(shop.db, key), { holdSeconds: 1 }));
    const placing = shop.db.sequelize.transaction(async (transaction) => {
      await takeStock(shop.db, sku, qty, transaction);
      await shop.db.Order.create({ sku, qty, status: 'paid', holdId: hold.holdId }, { transaction });
      expect(await shop.store.prepare(hold.holdId)).to.deep.equal({ state: 'prepared', changed: true });
      await inside?.(transaction);
    });
    return { hold, placing };
  }

  it('the order committed: its hold turns in-doubt when due, keeps its units, and the sweep commits it', async () => {
    const sku = await addProduct(shop, 5);
    const { hold, placing } = await orderThenDie(sku, 2);
    await placing;
    await sleepPast(hold.expiresAt);
    expect(await shop.store.getHolds(sku)).to.deep.include({ count: 1, units: 2, inDoubt: 1 });
    expect(await shop.store.getStock(sku)).to.equal(3);

    const resolutions = await resolveInDoubtOrders(shop.db, shop.store);
    expect(resolutions.find((r) => r.key === sku)).to.deep.equal({ key: sku, committed: [hold.holdId], released: [] });
    expect(await figures(shop, sku)).to.deep.equal({ dbStock: 3, redis: 3, unitsOrdered: 2, orders: 1 });
    expect(await shop.store.reconcile(sku, 3)).to.deep.include({ held: 0, inDoubt: 0, drift: 0 });
  });

  it('the transaction rolled back: the sweep releases the hold and every unit is for sale again', async () => {
    const sku = await addProduct(shop, 5);
    const { hold, placing } = await orderThenDie(sku, 2, async () => {
      throw new Error('the worker died before COMMIT');
    });
    await placing.then(
      () => expect.fail('committed'),
      (error: Error) => expect(error.message).to.equal('the worker died before COMMIT'),
    );
    await sleepPast(hold.expiresAt);
    expect(await shop.store.getStock(sku)).to.equal(3);
    const resolutions = await resolveInDoubtOrders(shop.db, shop.store);
    expect(resolutions.find((r) => r.key === sku)).to.deep.equal({ key: sku, committed: [], released: [hold.holdId] });
    expect(await figures(shop, sku)).to.deep.equal({ dbStock: 5, redis: 5, unitsOrdered: 0, orders: 0 });
  });

  it('an order still committing when its hold falls in doubt: the sweep waits for its transaction, then commits the hold', async () => {
    const sku = await addProduct(shop, 5);
    let sweep: Promise<unknown> | undefined;
    const { hold, placing } = await orderThenDie(sku, 1, async () => {
      // The transaction is still open (its order row uncommitted) when the hold is due and the sweep runs.
      const due = (await shop.store.getHolds(sku)).holds[0]?.expiresAt ?? 0;
      await sleepPast(due);
      sweep = resolveInDoubtOrders(shop.db, shop.store);
      await sleepPast(Date.now() + 300);
    });
    await placing;
    await sweep;
    expect(await shop.store.getHolds(sku)).to.deep.include({ count: 0, inDoubt: 0 });
    expect(await figures(shop, sku)).to.deep.equal({ dbStock: 4, redis: 4, unitsOrdered: 1, orders: 1 });
    expect(shop.events).to.deep.include({ type: 'committed', key: sku, holdId: hold.holdId });
  });

  it('over HTTP: the order row carries the hold id, and the hold is committed when the 201 goes out', async () => {
    const sku = await addProduct(shop, 5);
    const res = await order(shop, sku, 2).expect(201);
    const row = await shop.db.Order.findByPk(res.body.id as number);
    const holdId = row?.holdId;
    expect(holdId).to.be.a('string');
    expect(await shop.store.commit(holdId as string)).to.deep.equal({ state: 'committed', changed: false });
    expect(await figures(shop, sku)).to.deep.equal({ dbStock: 3, redis: 3, unitsOrdered: 2, orders: 1 });
  });
});
