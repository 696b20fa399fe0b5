/**
 * `npm run reconcile [-- --fix]`: every product's Redis figure against the
 * database, as a table. It opens the database and Redis only, not the app.
 */
import createError from 'http-errors';
import { createStockStore, type ReconcileReport, type StockStore } from '../../lib';
import { loadStock } from '../checkout';
import { config } from '../config';
import type { Database } from '../db/database';
import { resolveInDoubtOrders } from '../in-doubt';
import { createLogger } from '../ops/log';
import { openServices } from '../services';

/**
 * Settles in-doubt holds against the orders first (their units would
 * otherwise count as held), then compares every product's Redis figure with
 * the database (Redis available + units in open holds against database
 * stock) and, with `fix`, resets the figures that drifted. The stock is
 * given as a function that reads the product's row: a fix held back by
 * orders committing right now (prepared holds) reads it again once they
 * are done, rather than counting their units twice. A product deleted
 * after the list was read (its read is a 404) is left out.
 */
export async function reconcileAll(db: Database, store: StockStore, fix: boolean): Promise<ReconcileReport[]> {
  await resolveInDoubtOrders(db, store);
  const products = await db.Product.findAll({ attributes: ['sku'], order: [['sku', 'ASC']] });
  const reports: ReconcileReport[] = [];
  for (const { sku } of products) {
    try {
      reports.push(await store.reconcile(sku, async () => (await loadStock(db, sku)).stock, { fix }));
    } catch (error) {
      if (!(createError.isHttpError(error) && error.status === 404)) throw error;
    }
  }
  return reports;
}

const COLUMNS: [title: string, cell: (r: ReconcileReport) => string][] = [
  ['sku', (r) => r.key],
  ['database', (r) => String(r.database)],
  ['redis', (r) => (r.redis === null ? 'not loaded' : String(r.redis))],
  ['open holds', (r) => String(r.openHolds)],
  ['held', (r) => String(r.held)],
  ['prepared', (r) => String(r.prepared)],
  ['in doubt', (r) => String(r.inDoubt)],
  ['drift', (r) => (r.drift === null ? '-' : r.drift > 0 ? `+${r.drift}` : String(r.drift))],
  ['fixed', (r) => (r.fixed ? 'yes' : r.blockedBy === null ? '' : `no: ${r.blockedBy}`)],
];

/** The reports as a text table, one row per product. */
export function formatReports(reports: ReconcileReport[]): string {
  const rows = [COLUMNS.map(([title]) => title), ...reports.map((r) => COLUMNS.map(([, cell]) => cell(r)))];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((row) => (row[i] as string).length)));
  return rows.map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number))).join('  ')).join('\n');
}

/** `npm run reconcile [-- --fix]`: exits 1 when drift is left unfixed, so a cron job can alert on it. */
async function main(): Promise<void> {
  const fix = process.argv.includes('--fix');
  // Warnings only (Redis lost on the way): the table is the output.
  const { db, redis, close } = await openServices(config, createLogger(undefined, 'warn'));
  try {
    const reports = await reconcileAll(db, createStockStore({ redis, prefix: config.prefix }), fix);
    console.log(formatReports(reports));
    const drifted = reports.filter((r) => r.drift !== 0 && r.drift !== null && !r.fixed);
    const blocked = drifted.filter((r) => r.blockedBy !== null).length;
    if (drifted.length === 0) console.log('\nNo drift.');
    else if (!fix) console.log(`\n${drifted.length} product(s) drifted; run with --fix to repair.`);
    else console.log(`\n${drifted.length} product(s) drifted, ${blocked} left unfixed while holds were prepared or in doubt; run again.`);
    process.exitCode = drifted.length === 0 ? 0 : 1;
  } finally {
    await close();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error((error as Error).message ?? error);
    process.exit(1);
  });
}
