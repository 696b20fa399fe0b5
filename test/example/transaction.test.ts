/**
 * transactionWithRetry against real InnoDB deadlocks: a transaction picked
 * as a deadlock's victim runs again; after three such rounds the answer is a
 * 503. The deadlocks are made on a table of the test's own.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { QueryTypes, type Transaction } from 'sequelize';
import { readConfig } from '../../example/config';
import { transactionWithRetry } from '../../example/checkout';
import { createDatabase, type Database } from '../../example/db/database';
import { sleep } from '../helpers/wait';

describe('example: a deadlocked order transaction runs again', function () {
  this.timeout(60_000);
  const table = `deadlock_${randomBytes(4).toString('hex')}`;
  let db: Database;

  before(async () => {
    db = createDatabase(readConfig().databaseUrl, { pool: { max: 4 } });
    await db.sequelize.query(`CREATE TABLE ${table} (id INT PRIMARY KEY, n INT NOT NULL) ENGINE=InnoDB`);
    // Rows 1 and 2 are fought over; 3..52 give the other transaction more weight, so InnoDB picks ours as the victim.
    const rows = Array.from({ length: 52 }, (_, i) => `(${i + 1}, 0)`).join(', ');
    await db.sequelize.query(`INSERT INTO ${table} VALUES ${rows}`);
  });

  after(async () => {
    await db.sequelize.query(`DROP TABLE IF EXISTS ${table}`);
    await db.sequelize.close();
  });

  const add = (id: number | string, n: number, transaction: Transaction) =>
    db.sequelize.query(`UPDATE ${table} SET n = n + ? WHERE id ${typeof id === 'number' ? '= ?' : 'BETWEEN 3 AND 52 AND ? > 0'}`, {
      replacements: [n, typeof id === 'number' ? id : 1],
      type: QueryTypes.UPDATE,
      transaction,
    });

  /**
   * Called by our transaction once it holds row 1: another transaction takes
   * the ballast and row 2, then waits for row 1; ours then asks for row 2. A
   * cycle, and ours is the lighter side. Gives the other transaction's commit.
   */
  async function deadlockOurs(): Promise<{ other: Promise<void> }> {
    let hasRow2!: () => void;
    const ready = new Promise<void>((resolve) => (hasRow2 = resolve));
    const other = db.sequelize.transaction(async (theirs) => {
      await add('ballast', 1, theirs);
      await add(2, 1, theirs);
      hasRow2();
      await add(1, 1, theirs);
    });
    await ready;
    await sleep(200); // their wait for row 1 is queued first
    return { other };
  }

  async function n(id: number): Promise<number> {
    const [row] = await db.sequelize.query<{ n: number }>(`SELECT n FROM ${table} WHERE id = ?`, { replacements: [id], type: QueryTypes.SELECT });
    return (row as { n: number }).n;
  }

  it('the victim of a deadlock runs again and commits; the other transaction commits too', async () => {
    let attempts = 0;
    const others: Promise<void>[] = [];
    const before = [await n(1), await n(2)];
    await transactionWithRetry(db, async (transaction) => {
      attempts++;
      await add(1, 10, transaction);
      if (attempts === 1) others.push((await deadlockOurs()).other);
      await add(2, 10, transaction);
    });
    await Promise.all(others);
    expect(attempts).to.equal(2);
    expect([await n(1), await n(2)]).to.deep.equal([(before[0] as number) + 11, (before[1] as number) + 11]);
  });

  it('a deadlock every time: three rounds, then a 503 and nothing of ours written', async () => {
    let attempts = 0;
    const others: Promise<void>[] = [];
    const before = [await n(1), await n(2)];
    const error = await transactionWithRetry(db, async (transaction) => {
      attempts++;
      await add(1, 10, transaction);
      others.push((await deadlockOurs()).other);
      await add(2, 10, transaction);
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    await Promise.all(others);
    expect(error).to.include({ status: 503, message: 'The database is busy; try again' });
    expect(attempts).to.equal(3);
    // Only the three other transactions' +1s landed.
    expect([await n(1), await n(2)]).to.deep.equal([(before[0] as number) + 3, (before[1] as number) + 3]);
  });
});
