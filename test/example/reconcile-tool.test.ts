/**
 * `npm run reconcile [-- --fix]` (example/tools/reconcile.ts) against the
 * shop's real Redis figure and database: the table, the exit code a cron job
 * alerts on, and the fix.
 */
import { execFile } from 'node:child_process';
import { expect } from 'chai';
import type { StockStore } from '../../lib';
import { reconcileAll } from '../../example/tools/reconcile';
import { held } from '../helpers/holds';
import { addProduct, figures, order, useShop, type Shop } from './shop';

/** Runs the tool on the shop's keys; its exit code and output. */
function reconcile(shop: Shop, ...args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'example/tools/reconcile.ts', ...args],
      { env: { ...process.env, REDIS_PREFIX: shop.prefix }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, output: `${stdout}${stderr}` }),
    );
  });
}

/** The tool's table row of `sku`, as cells. */
function row(output: string, sku: string): string[] {
  const line = output.split('\n').find((l) => l.startsWith(`${sku} `));
  return line ? line.trim().split(/\s{2,}/) : [];
}

describe('example tool: npm run reconcile', function () {
  this.timeout(90_000);
  let shop: Shop;
  useShop((opened) => (shop = opened));

  it('reports a figure that drifted and exits 1; with --fix repairs it and exits 0', async () => {
    const sku = await addProduct(shop, 5, 'recon');
    await order(shop, sku, 2).expect(201);
    await shop.store.setStock(sku, 7); // Redis over-states by 4 (a lost write)

    const report = await reconcile(shop);
    expect(report.code, report.output).to.equal(1);
    // sku, database, redis, open holds, held, prepared, in doubt, drift, fixed
    expect(row(report.output, sku)).to.deep.equal([sku, '3', '7', '0', '0', '0', '0', '+4']);
    expect(report.output).to.include('1 product(s) drifted; run with --fix to repair.');
    expect((await figures(shop, sku)).redis).to.equal(7);

    const fixed = await reconcile(shop, '--fix');
    expect(fixed.code, fixed.output).to.equal(0);
    expect(row(fixed.output, sku)).to.deep.equal([sku, '3', '7', '0', '0', '0', '0', '+4', 'yes']);
    expect(fixed.output).to.include('No drift.');
    expect(await figures(shop, sku)).to.deep.include({ dbStock: 3, redis: 3 });
  });

  it('--fix while an order commits (its hold prepared, the database already short of its units): no fix, "no: prepared", exit 1; nothing lost', async () => {
    const sku = await addProduct(shop, 10, 'prepared');
    const hold = held(await shop.store.reserve(sku, 4, () => 10));
    expect((await shop.store.prepare(hold.holdId)).state).to.equal('prepared');
    // The order's COMMIT: the database has 6, and the hold is still prepared.
    await shop.db.Product.update({ stock: 6 }, { where: { sku } });

    // The tool reads the database again while the hold stays prepared, then gives up (initTimeoutMs).
    const blocked = await reconcile(shop, '--fix');
    expect(blocked.code, blocked.output).to.equal(1);
    expect(row(blocked.output, sku)).to.deep.equal([sku, '6', '6', '1', '4', '1', '0', '+4', 'no: prepared']);
    expect(blocked.output).to.include('1 product(s) drifted, 1 left unfixed while holds were prepared or in doubt; run again.');
    // A reset to database - held would have written 2.
    expect((await figures(shop, sku)).redis).to.equal(6);

    await shop.store.commit(hold.holdId);
    const after = await reconcile(shop, '--fix');
    expect(after.code, after.output).to.equal(0);
    expect(row(after.output, sku)).to.deep.equal([sku, '6', '6', '0', '0', '0', '0', '0']);
    expect(after.output).to.include('No drift.');
    expect((await figures(shop, sku)).redis).to.equal(6);
  });

  it('reads the database through a function: a fix held back by a prepared hold reads it again, and is made once the hold commits', async () => {
    const sku = await addProduct(shop, 10, 'reread');
    const hold = held(await shop.store.reserve(sku, 4, () => 10));
    expect((await shop.store.prepare(hold.holdId)).state).to.equal('prepared');
    // The database sold 2 that Redis never heard of, and this order's COMMIT went through: 10 - 2 - 4.
    await shop.db.Product.update({ stock: 4 }, { where: { sku } });
    let reads = 0;
    const store = Object.create(shop.store) as StockStore;
    store.reconcile = (key, databaseStock, options) => {
      if (key !== sku) return shop.store.reconcile(key, databaseStock, options);
      if (typeof databaseStock !== 'function') throw new Error(`the tool passed ${databaseStock}, not a function that reads the database`);
      return shop.store.reconcile(
        key,
        async () => {
          // The hold's commit arrives while the fix waits for it.
          if (++reads === 2) await shop.store.commit(hold.holdId);
          return databaseStock();
        },
        options,
      );
    };
    const report = (await reconcileAll(shop.db, store, true)).find((r) => r.key === sku);
    expect(reads).to.be.at.least(2);
    expect(report).to.deep.include({ database: 4, redis: 6, held: 0, prepared: 0, drift: 2, fixed: true, blockedBy: null });
    expect(await shop.store.reconcile(sku, 4)).to.deep.include({ redis: 4, held: 0, drift: 0 });
  });

  it('a product deleted while the tool runs is left out; the others are reconciled', async () => {
    const gone = await addProduct(shop, 5, 'gone');
    const kept = await addProduct(shop, 5, 'kept');
    for (const sku of [gone, kept]) await order(shop, sku, 1).expect(201);
    await shop.store.setStock(kept, 7); // a lost write: over-states by 3
    const store = Object.create(shop.store) as StockStore;
    store.reconcile = async (key, databaseStock, options) => {
      // Deleted after the tool listed the products, before it read this one.
      if (key === gone) await shop.db.Product.destroy({ where: { sku: gone } });
      return shop.store.reconcile(key, databaseStock, options);
    };
    const reports = await reconcileAll(shop.db, store, true);
    expect(reports.map((r) => r.key)).to.not.include(gone);
    expect(reports.find((r) => r.key === kept)).to.deep.include({ database: 4, redis: 7, drift: 3, fixed: true });
  });
});
