import { expect } from 'chai';
import request from 'supertest';
import type { SaleSecond } from '../../example/dashboard/timeline';
import { artifact, useBrowser } from './browser';
import { addProduct, adminPost, order, useShop, type Shop } from './shop';

interface DashboardData {
  now: number;
  seconds: number;
  buckets: SaleSecond[];
}

describe('example app: the sale dashboard', function () {
  this.timeout(60_000);
  let shop: Shop;
  useShop((opened) => (shop = opened));
  const browser = useBrowser();

  async function data(): Promise<DashboardData> {
    return (await request(shop.url).get('/dashboard/data').expect(200)).body as DashboardData;
  }

  const total = (d: DashboardData, tally: 'sales' | 'soldOut' | 'unavailable') => d.buckets.reduce((sum, b) => sum + b[tally], 0);
  /** The product's last figure in the window. */
  const lastStock = (d: DashboardData, sku: string) => d.buckets.map((b) => b.stock[sku]).filter((v) => v !== undefined).at(-1);

  it('GET /dashboard/data: the answers of a sale per second, and the product\'s stock', async () => {
    const before = await data();
    const sku = await addProduct(shop, 3, 'dash');
    await order(shop, sku, 1).expect(201);
    await order(shop, sku, 2).expect(201);
    await order(shop, sku, 1).expect(409);
    await order(shop, sku, 1, 'decline').expect(409);
    const after = await data();
    expect(total(after, 'sales') - total(before, 'sales')).to.equal(2);
    expect(total(after, 'soldOut') - total(before, 'soldOut')).to.equal(2);
    expect(lastStock(after, sku)).to.equal(0);
    expect(after.seconds).to.equal(300);
    expect(after.buckets.every((b) => b.t > after.now - after.seconds && b.t <= after.now)).to.equal(true);
  });

  it('counts carts: a cart sold is a sale, a short cart a sold-out answer', async () => {
    const before = await data();
    const a = await addProduct(shop, 2, 'cart-a');
    const b = await addProduct(shop, 1, 'cart-b');
    await request(shop.url).post('/carts/checkout').send({ items: [{ sku: a, qty: 1 }, { sku: b, qty: 1 }] }).expect(201);
    await request(shop.url).post('/carts/checkout').send({ items: [{ sku: a, qty: 1 }, { sku: b, qty: 1 }] }).expect(409);
    const after = await data();
    expect(total(after, 'sales') - total(before, 'sales')).to.equal(1);
    expect(total(after, 'soldOut') - total(before, 'soldOut')).to.equal(1);
    expect([lastStock(after, a), lastStock(after, b)]).to.deep.equal([1, 0]);
  });

  it('reads the followed products\' figures as it answers: a restock shows', async () => {
    const sku = await addProduct(shop, 2, 'restocked');
    await order(shop, sku, 2).expect(201);
    expect(lastStock(await data(), sku)).to.equal(0);
    await adminPost(shop, `/products/${sku}/restock`).send({ qty: 7 }).expect(200);
    expect(lastStock(await data(), sku)).to.equal(7);
  });

  it('GET /dashboard charts the sale in the browser', async () => {
    const sku = await addProduct(shop, 4, 'chart');
    for (const qty of [1, 3]) await order(shop, sku, qty).expect(201);
    await order(shop, sku, 1).expect(409);
    const page = browser.page();
    await page.goto(`${shop.url}/dashboard`);
    const legend = page.locator(`[data-chart="stock"] .legend [data-sku="${sku}"]`);
    await legend.waitFor({ timeout: 10_000 });
    expect(await legend.textContent()).to.equal(`${sku}: 0`);
    for (const chart of ['sales', 'soldOut', 'unavailable', 'stock']) {
      expect(await page.locator(`[data-chart="${chart}"] svg polyline`).count(), chart).to.be.above(0);
    }
    await page.screenshot({ path: artifact('dashboard.png'), fullPage: true });
  });
});
