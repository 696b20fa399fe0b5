/**
 * Four example app processes behind round-robin share the suite's cluster
 * and one database: a flash sale on items in different slots keeps the
 * invariants of the single-process sale (test/example/flash-sale.test.ts).
 */
import { expect } from 'chai';
import type { RedisServer } from '../helpers/redis-server';
import { waitFor } from '../helpers/wait';
import { sharedCluster } from './fixture';
import { openFleet, type Fleet } from './fleet';
import { countOf, orderOnce, runSale } from './sale';

const WORKERS = 4;
const STOCKS = [150, 100, 50];
const BUYERS = 700;

describe('Redis Cluster: four app processes, one cluster, one database', function () {
  this.timeout(120_000);
  let fleet: Fleet;

  before(async () => {
    fleet = await openFleet(sharedCluster(), WORKERS);
  });

  after(async () => {
    await fleet?.close();
  });

  it(`${BUYERS} buyers round-robin over ${WORKERS} processes: oversold 0, lost 0, the books balance, a sell-out sells exactly the rest`, async () => {
    // One item on each master.
    const masters = new Set<RedisServer>();
    const skus: string[] = [];
    for (const [i, stock] of STOCKS.entries()) {
      const sku = await fleet.addProductOn((master) => !masters.has(master), stock, `multi${i}`);
      masters.add(await sharedCluster().masterOfKey(fleet.stockKey(sku)));
      skus.push(sku);
    }

    const attempts = await runSale({
      buyers: BUYERS,
      concurrency: 32,
      sku: (i) => skus[i % skus.length] as string,
      url: fleet.url,
      declines: (i) => i % 7 === 6,
    });

    expect(attempts.filter((a) => a.status === 'net' || a.status >= 500 && a.status !== 503), 'errors').to.deep.equal([]);
    // Without a fault Redis and the database agree: no order reached the database guard and was refused.
    expect(await fleet.dbTransactions()).to.equal(countOf(attempts, 201) + countOf(attempts, 402));
    for (const [i, sku] of skus.entries()) {
      const initial = STOCKS[i] as number;
      await waitFor(async () => (await fleet.store.getHolds(sku)).count === 0, `the holds of ${sku} to settle`, 10_000);
      const books = await fleet.books(sku);
      // Oversold 0: the database never went below 0, and its books balance.
      expect(books.dbStock).to.be.at.least(0);
      expect(books.unitsOrdered + books.dbStock).to.equal(initial);
      expect(books.unitsOrdered).to.equal(countOf(attempts.filter((a) => a.sku === sku), 201));
      // Lost 0: Redis says what the database says.
      expect(await fleet.store.reconcile(sku, books.dbStock)).to.deep.include({ drift: 0, openHolds: 0 });
      // The rest sells exactly, through one process, and the next unit through another is sold out.
      if (books.dbStock > 0) expect((await orderOnce(fleet.url(i), -1, sku, 'card', books.dbStock)).status).to.equal(201);
      expect((await orderOnce(fleet.url(i + 1), -1, sku)).status).to.equal(409);
      expect(await fleet.books(sku)).to.deep.equal({ dbStock: 0, unitsOrdered: initial });
    }
    console.log(
      `      ${attempts.length} attempts over ${WORKERS} processes, items on ${masters.size} masters: ` +
        `${countOf(attempts, 201)} sold, ${countOf(attempts, 409)} sold out, ${countOf(attempts, 402)} declined, ${countOf(attempts, 503)} 503`,
    );
  });
});
