/**
 * `npm run demo [-- --watch]`: a flash sale you can watch, then a sale of a
 * product limited per customer, each judged from the database and Redis
 * afterwards (exits 1 if anything was oversold or lost, or a customer got
 * more than the limit).
 */
import { QueryTypes } from 'sequelize';
import { config } from '../config';
import { createDatabase, type Database } from '../db/database';
import { call } from './demo/api';
import { judgeLimited, printLimitedTable, type LimitedSettled } from './demo/limited-report';
import { runLimitedSale, type LimitedSale } from './demo/limited-sale';
import { waitForEnter } from './demo/pause';
import { progressPrinter } from './demo/progress';
import { judge, printTable, type Settled } from './demo/report';
import { makeBuyers, runSale, type SaleCounts } from './demo/sale';
import { runningApp, startLocalApp, type DemoTarget } from './demo/start-app';

// The flash sale of issue 3: 100 units, 2,000 buyers, about a fifth of whom
// see their payment declined.
const UNITS = 100;
const BUYERS = 2000;
const DECLINE_SHARE = 0.2;
const CONCURRENCY = 100;

// The sale of issue 17: a product limited to 2 per customer; 5 buyers fire
// 40 orders each, all at once, while 60 other customers buy one unit each.
const LIMITED: LimitedSale = { units: 30, limit: 2, greedy: 5, burst: 40, crowd: 60, concurrency: 10 };

// `npm run demo -- --watch`: waits for Enter before the sale and after it,
// so that a person can open the dashboard and watch.
const WATCH = process.argv.includes('--watch');

/** The product's figures, as the app answers them: the database's stock, Redis's. */
async function figures(target: DemoTarget, sku: string): Promise<{ dbStock: number; redisStock: number | null }> {
  const product = await call(`${target.url}/products/${encodeURIComponent(sku)}`, 'GET');
  return { dbStock: product.stock as number, redisStock: product.available as number | null };
}

/** Reads the outcome where it lives: order rows and stock in the database, the figure in Redis. */
async function settle(db: Database, target: DemoTarget, sku: string): Promise<Settled> {
  const unitsOrdered = ((await db.Order.sum('qty', { where: { sku } })) as number | null) ?? 0;
  return { initial: UNITS, unitsOrdered, ...(await figures(target, sku)) };
}

/** The limited sale's order rows, per customer, and the product's figures. */
async function settleLimited(db: Database, target: DemoTarget, sku: string): Promise<LimitedSettled> {
  const rows = await db.sequelize.query<{ customer: string; units: string | number }>(
    'SELECT customer, SUM(qty) AS units FROM orders WHERE sku = ? GROUP BY customer',
    { replacements: [sku], type: QueryTypes.SELECT },
  );
  return { units: new Map(rows.map((r) => [r.customer, Number(r.units)])), ...(await figures(target, sku)) };
}

/** Prints the flash sale's table and verdict; whether nothing was oversold or lost. */
function reportSale(counts: SaleCounts, settled: Settled): boolean {
  const verdict = judge(settled);
  printTable(counts, settled, verdict);
  if (counts.sold !== settled.unitsOrdered) console.log(`Mismatch: ${counts.sold} answers 201, ${settled.unitsOrdered} units in order rows`);
  if (settled.dbStock > 0 && verdict.lost === 0) {
    console.log(`${settled.dbStock} units are still for sale: declined buyers gave them back after the last buyers had been turned away.`);
  }
  if (verdict.redisExcess > 0) console.log(`Redis holds ${verdict.redisExcess} more than the database`);
  const ok = verdict.oversold === 0 && verdict.lost === 0 && verdict.redisExcess === 0 && counts.sold === settled.unitsOrdered;
  console.log(ok ? 'No unit oversold, none lost.' : 'FAILED: the figures above do not add up.');
  return ok;
}

/** The limited sale, from making its product to its table and verdict; whether it held. */
async function limitedSale(db: Database, target: DemoTarget, sku: string): Promise<boolean> {
  const { units, limit, greedy, burst, crowd } = LIMITED;
  console.log(`\nLimited sale: ${units} units of ${sku}, at most ${limit} per customer; ${greedy} buyers fire ${burst} orders each at once, ${crowd} other customers buy one each`);
  await call(`${target.url}/products`, 'POST', { sku, name: 'Limited-edition cap', stock: units, perCustomerLimit: limit }, target.adminToken);
  const outcome = await runLimitedSale(target.url, target.adminToken, sku, LIMITED);
  const settled = await settleLimited(db, target, sku);
  const verdict = judgeLimited(LIMITED, outcome, settled);
  printLimitedTable(LIMITED, outcome, settled, verdict);
  if (verdict.overLimit.length > 0) console.log(`Over the limit: ${verdict.overLimit.join(', ')}`);
  if (!verdict.soldOut) console.log(`Not sold out: ${verdict.unitsOrdered} of ${units} units in order rows`);
  console.log(
    verdict.ok
      ? `No customer got more than ${limit}; the other customers bought the other ${verdict.toOthers} units, and it sold out.`
      : 'FAILED: the limited sale does not add up.',
  );
  return verdict.ok;
}

async function main(): Promise<number> {
  const given = process.env.DEMO_URL;
  const target = given ? runningApp(given) : await startLocalApp();
  const sku = `demo-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
  const limitedSku = `${sku}-limited`;
  console.log(`Flash sale on ${target.url}: ${UNITS} units of ${sku}, ${BUYERS} buyers (${CONCURRENCY} at a time), about ${DECLINE_SHARE * 100}% decline payment`);
  console.log(`Watch it on the dashboard: ${target.url}/dashboard (storefront: ${target.url}/)\n`);
  const db = createDatabase(config.databaseUrl, { pool: { max: 1 } });
  try {
    await call(`${target.url}/products`, 'POST', { sku, name: 'Flash-sale sneakers', stock: UNITS }, target.adminToken);
    if (WATCH) await waitForEnter('Open the dashboard, then press Enter to start the sale.');
    const progress = progressPrinter(BUYERS);
    const counts = await runSale(target.url, sku, makeBuyers(BUYERS, DECLINE_SHARE), CONCURRENCY, progress.update);
    progress.done(counts);
    const saleOk = reportSale(counts, await settle(db, target, sku));
    const limitedOk = await limitedSale(db, target, limitedSku);
    if (given) console.log(`The products stay on the running app: GET ${target.url}/products/${sku} and ${limitedSku}`);
    if (WATCH) await waitForEnter('The sales are over. Press Enter to close the app.');
    return saleOk && limitedOk ? 0 : 1;
  } finally {
    await db.sequelize.close();
    await target.close(sku, limitedSku);
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
