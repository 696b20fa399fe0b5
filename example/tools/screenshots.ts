/**
 * `npm run screenshots`: runs a flash sale on three products against a local
 * app and captures the storefront and the dashboard in the middle of it,
 * into docs/storefront.png and docs/dashboard.png (the README's pictures).
 */
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../../test/helpers/chromium';
import { call } from './demo/api';
import { makeBuyers, runSale } from './demo/sale';
import { startLocalApp } from './demo/start-app';

const DOCS = resolve(__dirname, '../../docs');

// Three products; the sneakers draw the most buyers for their stock, so
// they sell out first and the pictures show sold-out answers too. The hoodie
// is limited per customer (each buyer here is a customer of their own).
const PRODUCTS = [
  { name: 'Flash-sale sneakers', stock: 100, buyers: 260, perCustomerLimit: null },
  { name: 'Limited hoodie', stock: 300, buyers: 420, perCustomerLimit: 2 },
  { name: 'Signed poster', stock: 500, buyers: 600, perCustomerLimit: null },
];
const DECLINE_SHARE = 0.15;
// The buyers come in waves, so that the sale lasts long enough to be seen
// on the dashboard (at full speed it is over in a few seconds).
const WAVES = 40;
const WAVE_MS = 500;
const CONCURRENCY = 10;
/** The wave after which the pictures are taken: past the middle of the sale. */
const CAPTURE_AFTER = Math.round(WAVES * 0.6);

async function openPage(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 820 } });
  await page.goto(url);
  return page;
}

/** A buyer on the storefront too, so that its message area shows an answer. */
async function buyOnPage(storefront: Page, sku: string): Promise<void> {
  await storefront.locator(`[data-sku="${sku}"] [data-action="buy"]`).click();
  await storefront.locator('[data-role="message"]:not(:empty)').waitFor();
}

async function main(): Promise<void> {
  const target = await startLocalApp();
  const run = Date.now().toString(36);
  const skus = PRODUCTS.map((_, i) => `sale-${run}-${i + 1}`);
  const browser = await launchChromium();
  try {
    for (const [i, { name, stock, perCustomerLimit }] of PRODUCTS.entries()) {
      await call(`${target.url}/products`, 'POST', { sku: skus[i], name, stock, perCustomerLimit }, target.adminToken);
    }
    const storefront = await openPage(browser, `${target.url}/`);
    const dashboard = await openPage(browser, `${target.url}/dashboard`);
    const buyers = PRODUCTS.map((product) => makeBuyers(product.buyers, DECLINE_SHARE));
    // Taken while the waves go on, so that the rates on the dashboard are those of a running sale.
    const capture = async () => {
      await buyOnPage(storefront, skus[2] as string);
      await sleep(1100); // a dashboard refresh after the purchase
      await storefront.screenshot({ path: join(DOCS, 'storefront.png') });
      await dashboard.screenshot({ path: join(DOCS, 'dashboard.png'), fullPage: true });
    };
    let captured: Promise<void> | undefined;
    let sold = 0;
    for (let wave = 0; wave < WAVES; wave++) {
      const answers = Promise.all(
        buyers.map((list, i) => {
          const size = Math.ceil(list.length / WAVES);
          return runSale(target.url, skus[i] as string, list.slice(wave * size, (wave + 1) * size), CONCURRENCY, () => undefined);
        }),
      );
      const [counts] = await Promise.all([answers, sleep(WAVE_MS)]);
      sold += counts.reduce((sum, c) => sum + c.sold, 0);
      if (wave === CAPTURE_AFTER) captured = capture();
    }
    await captured;
    console.log(`sale over: ${sold} units sold; wrote ${join(DOCS, 'storefront.png')} and ${join(DOCS, 'dashboard.png')}`);
  } finally {
    await browser.close();
    await target.close(...skus);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
