/**
 * reconcile with fix racing a stream of orders that prepare and commit, the
 * way a cron job's `npm run reconcile -- --fix` meets a sale. The database is
 * a table of this test's own on the real MariaDB: each order takes its units
 * with the guard's conditional UPDATE, prepares its hold last, COMMITs, and
 * commits the hold a moment later (as the middleware does once the answer
 * is out); a fifth are declined and roll back. Each round Redis first loses
 * writes (its figure moved by some units, up or down), and a fix is made in
 * the middle of the round's orders.
 *
 * Once the round's orders are done, figure + open holds is compared with the
 * database: exactly equal. No unit may be lost (a fix never counts an order
 * twice: prepared holds block it), and none made up: the database is read
 * as a function, after Redis, and a prepare in between blocks the fix (an
 * order committed after the read would be counted on neither side).
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import mysql, { type Pool, type PoolConnection, type ResultSetHeader, type RowDataPacket } from 'mysql2/promise';
import { createStockStore, stockKeys, type StockStore } from '../lib';
import { readConfig } from '../example/config';
import { held } from './helpers/holds';
import { useSharedRedis } from './helpers/redis';
import { sleep, waitFor } from './helpers/wait';

const shared = useSharedRedis('reconcile-orders');

const STOCK = 10_000;
/** Each round's lost writes, in units: Redis over-states (+) or under-states (-) by them. */
const LOST_WRITES = [100, -40, 25, -7, 60, -100, 3, -1, 50, -20];
const ORDERS_PER_ROUND = 60;
const BUYERS = 8;

/** An order that committed: its units. */
interface Sold {
  qty: number;
}

describe('reconcile with fix racing orders that prepare and commit', function () {
  this.timeout(120_000);
  const table = `rs_reconcile_${randomBytes(4).toString('hex')}`;
  let pool: Pool;

  before(async () => {
    pool = mysql.createPool({ uri: readConfig().databaseUrl, connectionLimit: BUYERS + 2 });
    await pool.query(`CREATE TABLE \`${table}\` (sku VARCHAR(64) PRIMARY KEY, stock INT NOT NULL) ENGINE=InnoDB`);
  });
  after(async () => {
    await pool.query(`DROP TABLE IF EXISTS \`${table}\``);
    await pool.end();
  });

  /** The database's stock. */
  async function readDatabase(): Promise<number> {
    const [rows] = await pool.query<RowDataPacket[]>(`SELECT stock FROM \`${table}\` WHERE sku = 'sku'`);
    return (rows[0] as { stock: number }).stock;
  }

  /** One order: reserve, the guard, prepare, COMMIT, commit the hold; or declined. */
  async function order(store: StockStore, i: number, sold: Sold[]): Promise<void> {
    const qty = 1 + (i % 3);
    const hold = held(await store.reserve('sku', qty));
    const connection: PoolConnection = await pool.getConnection();
    try {
      await connection.beginTransaction();
      const [taken] = await connection.query<ResultSetHeader>(
        `UPDATE \`${table}\` SET stock = stock - ? WHERE sku = 'sku' AND stock >= ?`,
        [qty, qty],
      );
      expect(taken.affectedRows, 'the database has the stock').to.equal(1);
      if (i % 5 === 4) {
        await connection.rollback();
        expect((await store.release(hold.holdId)).state).to.equal('released');
        return;
      }
      expect((await store.prepare(hold.holdId)).state).to.equal('prepared');
      await connection.commit();
      // The shop answers the buyer before its hold is committed (the middleware commits as the answer ends).
      await sleep(i % 4);
      sold.push({ qty });
      expect((await store.commit(hold.holdId)).state).to.equal('committed');
    } finally {
      connection.release();
    }
  }

  it('no unit lost, none made up: figure + open holds == database after every fix made mid-sale', async () => {
    await pool.query(`INSERT INTO \`${table}\` (sku, stock) VALUES ('sku', ?)`, [STOCK]);
    const prefix = shared.prefix();
    const buyersStore = createStockStore({ redis: shared.client(), prefix });
    const store = createStockStore({ redis: shared.redis, prefix });
    await store.setStock('sku', STOCK);
    const sold: Sold[] = [];
    let placed = 0;

    for (const [round, lost] of LOST_WRITES.entries()) {
      // Redis lost writes: it over- or under-states by `lost` units.
      await shared.redis.incrby(stockKeys(prefix, 'sku').stock, lost);
      const first = placed;
      placed += ORDERS_PER_ROUND;
      let next = first;
      let ordering = true;
      const buyers = Promise.all(
        Array.from({ length: BUYERS }, async () => {
          while (next < placed) await order(buyersStore, next++, sold);
        }),
      ).finally(() => {
        ordering = false;
      });
      // Awaited below, once a fix is made; a failed order must not count as unhandled meanwhile.
      void buyers.catch(() => undefined);
      // Mid-sale, reconcile until a fix is made; the call that makes it started while orders ran.
      const soldBefore = sold.length;
      await waitFor(() => sold.length >= soldBefore + ORDERS_PER_ROUND / 4, 'orders committing', 30_000, 1);
      let fixed = false;
      let started = false;
      while (!fixed) {
        started = ordering;
        fixed = (await store.reconcile('sku', readDatabase, { fix: true })).fixed;
      }
      await buyers;
      expect(started, `round ${round}: the fix's reconcile started while orders ran`).to.equal(true);

      const stock = await readDatabase();
      const after = await store.reconcile('sku', stock);
      expect(after, `round ${round}`).to.deep.include({ held: 0, openHolds: 0, prepared: 0, inDoubt: 0 });
      // drift = figure + open holds - database: below 0 units lost, above 0 units made up.
      expect(after.drift, `round ${round}: figure + open holds - database`).to.equal(0);
    }
    const stock = await readDatabase();
    expect(stock, 'the database sold exactly the committed orders').to.equal(STOCK - sold.reduce((sum, s) => sum + s.qty, 0));
    expect(sold.length).to.equal(placed - placed / 5);
  });
});
