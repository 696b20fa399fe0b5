import { expect } from 'chai';
import request from 'supertest';
import type { Page } from 'playwright-core';
import { waitFor } from '../helpers/wait';
import { artifact, useBrowser } from './browser';
import { addProduct, adminPost, figures, order, useShop, type Shop } from './shop';

describe('example app: the storefront in a browser', function () {
  this.timeout(60_000);
  let shop: Shop;
  useShop((opened) => (shop = opened));
  const browser = useBrowser();

  const card = (page: Page, sku: string) => page.locator(`[data-sku="${sku}"]`);
  /** Waits until the page shows `units` for the product (the page refreshes it by itself). */
  const stockShown = (page: Page, sku: string, units: number) => card(page, sku).locator(`[data-stock="${units}"]`).waitFor({ timeout: 10_000 });
  const message = (page: Page) => page.locator('[data-role="message"]');

  async function buy(page: Page, sku: string, qty: number): Promise<void> {
    const before = await message(page).textContent();
    await card(page, sku).locator('[data-role="qty"]').fill(String(qty));
    await card(page, sku).locator('[data-action="buy"]').click();
    // The message changes once the answer is in (every text differs from the one before it here).
    await waitFor(async () => (await message(page).textContent()) !== before, 'the answer to show', 10_000);
  }

  it('serves GET / as HTML with the page\'s own script and styles, under a CSP', async () => {
    const res = await request(shop.url).get('/').expect(200).expect('content-type', /html/);
    expect(res.text).to.include('<script type="module" src="/storefront.js">');
    expect(res.headers['content-security-policy']).to.include("script-src 'self'");
    await request(shop.url).get('/storefront.js').expect(200).expect('content-type', /javascript/);
  });

  it('buys, shows the stock fall, sells out and says so', async () => {
    const page = browser.page();
    const sku = await addProduct(shop, 5, 'page');
    await page.goto(`${shop.url}/`);
    await stockShown(page, sku, 5);

    await buy(page, sku, 2);
    await stockShown(page, sku, 3);
    expect(await message(page).textContent()).to.match(/^Thank you! Order #\d+: 2 × /);

    await buy(page, sku, 4);
    expect(await message(page).textContent()).to.include('sold out');
    await stockShown(page, sku, 3);

    await buy(page, sku, 3);
    await stockShown(page, sku, 0);
    expect(await message(page).textContent()).to.include('is now sold out');
    expect(await card(page, sku).locator('[data-action="buy"]').isDisabled()).to.equal(true);
    expect(await card(page, sku).locator('[data-stock]').textContent()).to.equal('Sold out');
    await page.screenshot({ path: artifact('storefront.png'), fullPage: true });

    expect(await figures(shop, sku)).to.deep.equal({ dbStock: 0, redis: 0, unitsOrdered: 5, orders: 2 });
  });

  it('a declined payment is told in words and takes nothing', async () => {
    const page = browser.page();
    const sku = await addProduct(shop, 2, 'declined');
    await page.goto(`${shop.url}/`);
    await stockShown(page, sku, 2);
    await page.locator('[data-role="payment"]').selectOption('decline');
    await buy(page, sku, 1);
    expect(await message(page).textContent()).to.include('payment was declined');
    await stockShown(page, sku, 2);
    expect((await figures(shop, sku)).orders).to.equal(0);
  });

  it('shows a product\'s per-customer limit, and tells a buyer who reaches it, in words', async () => {
    const page = browser.page();
    const sku = shop.sku('limited');
    await adminPost(shop, '/products').send({ sku, name: 'Limited tee', stock: 10, perCustomerLimit: 2 }).expect(201);
    const open = await addProduct(shop, 10, 'open');
    await page.goto(`${shop.url}/`);
    await stockShown(page, sku, 10);
    expect(await card(page, sku).locator('[data-role="limit"]').textContent()).to.equal('Limit 2 per customer');
    expect(await card(page, open).locator('[data-role="limit"]').isHidden()).to.equal(true);

    await buy(page, sku, 2);
    await stockShown(page, sku, 8);
    await buy(page, sku, 1);
    expect(await message(page).textContent()).to.equal('Sorry, Limited tee is limited to 2 per customer: you already have 2, so you cannot buy more.');
    await stockShown(page, sku, 8);
    await page.screenshot({ path: artifact('storefront-limit.png'), fullPage: true });
    // Another browser is another customer.
    await request(shop.url).post('/orders').send({ sku, qty: 2 }).expect(201);
    await stockShown(page, sku, 6);
    expect((await figures(shop, sku)).orders).to.equal(2);
  });

  it('follows the stock live: another buyer\'s order shows without a reload', async () => {
    const page = browser.page();
    const sku = await addProduct(shop, 4, 'live');
    await page.goto(`${shop.url}/`);
    await stockShown(page, sku, 4);
    await order(shop, sku, 4).expect(201);
    await stockShown(page, sku, 0);
    expect(await card(page, sku).locator('[data-action="buy"]').isDisabled()).to.equal(true);
  });
});
