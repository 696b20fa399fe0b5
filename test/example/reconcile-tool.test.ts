/**
 * `npm run reconcile [-- --fix]` (example/tools/reconcile.ts) against the
 * shop's real Redis figure and database: the table, the exit code a cron job
 * alerts on, and the fix.
 */
import { execFile } from 'node:child_process';
import { expect } from 'chai';
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
    // sku, database, redis, open holds, held, in doubt, drift, fixed
    expect(row(report.output, sku)).to.deep.equal([sku, '3', '7', '0', '0', '0', '+4']);
    expect(report.output).to.include('1 product(s) drifted; run with --fix to repair.');
    expect((await figures(shop, sku)).redis).to.equal(7);

    const fixed = await reconcile(shop, '--fix');
    expect(fixed.code, fixed.output).to.equal(0);
    expect(row(fixed.output, sku)).to.deep.equal([sku, '3', '7', '0', '0', '0', '+4', 'yes']);
    expect(fixed.output).to.include('No drift.');
    expect(await figures(shop, sku)).to.deep.include({ dbStock: 3, redis: 3 });
  });
});
