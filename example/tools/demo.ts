/**
 * `npm run demo [-- --watch]`: a flash sale you can watch, judged from the
 * database and Redis afterwards (exits 1 if anything was oversold or lost).
 */
import { config } from '../config';
import { createDatabase } from '../db/database';
import { call } from './demo/api';
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

// `npm run demo -- --watch`: waits for Enter before the sale and after it,
// so that a person can open the dashboard and watch.
const WATCH = process.argv.includes('--watch');

/** Reads the outcome where it lives: order rows and stock in the database, the figure in Redis. */
async function settle(target: DemoTarget, sku: string): Promise<Settled> {
  const db = createDatabase(config.databaseUrl, { pool: { max: 1 } });
  try {
    const unitsOrdered = ((await db.Order.sum('qty', { where: { sku } })) as number | null) ?? 0;
    const product = await call(`${target.url}/products/${encodeURIComponent(sku)}`, 'GET');
    return { initial: UNITS, unitsOrdered, dbStock: product.stock as number, redisStock: product.available as number | null };
  } finally {
    await db.sequelize.close();
  }
}

async function main(): Promise<number> {
  const given = process.env.DEMO_URL;
  const target = given ? runningApp(given) : await startLocalApp();
  const sku = `demo-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
  console.log(`Flash sale on ${target.url}: ${UNITS} units of ${sku}, ${BUYERS} buyers (${CONCURRENCY} at a time), about ${DECLINE_SHARE * 100}% decline payment`);
  console.log(`Watch it on the dashboard: ${target.url}/dashboard (storefront: ${target.url}/)\n`);
  let counts: SaleCounts;
  let settled: Settled;
  try {
    await call(`${target.url}/products`, 'POST', { sku, name: 'Flash-sale sneakers', stock: UNITS }, target.adminToken);
    if (WATCH) await waitForEnter('Open the dashboard, then press Enter to start the sale.');
    const progress = progressPrinter(BUYERS);
    counts = await runSale(target.url, sku, makeBuyers(BUYERS, DECLINE_SHARE), CONCURRENCY, progress.update);
    progress.done(counts);
    settled = await settle(target, sku);
    if (WATCH) await waitForEnter('The sale is over. Press Enter to close the app.');
  } finally {
    await target.close(sku);
  }
  const verdict = judge(settled);
  printTable(counts, settled, verdict);
  if (given) console.log(`The product stays on the running app: GET ${target.url}/products/${sku}`);
  if (counts.sold !== settled.unitsOrdered) console.log(`Mismatch: ${counts.sold} answers 201, ${settled.unitsOrdered} units in order rows`);
  if (settled.dbStock > 0 && verdict.lost === 0) {
    console.log(`${settled.dbStock} units are still for sale: declined buyers gave them back after the last buyers had been turned away.`);
  }
  if (verdict.redisExcess > 0) console.log(`Redis holds ${verdict.redisExcess} more than the database`);
  const ok = verdict.oversold === 0 && verdict.lost === 0 && verdict.redisExcess === 0 && counts.sold === settled.unitsOrdered;
  console.log(ok ? 'No unit oversold, none lost.' : 'FAILED: the figures above do not add up.');
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
