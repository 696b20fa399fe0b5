import { expect } from 'chai';
import request from 'supertest';
import { createMetrics } from '../../example/ops/metrics';
import { metricNames, parseMetrics } from '../helpers/prometheus';
import { waitFor } from '../helpers/wait';
import { addProduct, openShop, order, useShop, type Shop } from './shop';

/** The samples these tests follow: the library's counters and the latency histogram's counts. */
const FOLLOWED = [
  'reserve_stock_reserved_total',
  'reserve_stock_reserved_units_total',
  'reserve_stock_sold_out_total{answered_by="redis"}',
  'reserve_stock_sold_out_total{answered_by="memory"}',
  'reserve_stock_limit_refusals_total',
  'reserve_stock_committed_total',
  'reserve_stock_released_total',
  'reserve_stock_expired_holds_total',
  'reserve_stock_initialised_total',
  'reserve_stock_reconciled_total',
  'reserve_stock_reservation_duration_seconds_count{outcome="reserved"}',
  'reserve_stock_reservation_duration_seconds_count{outcome="sold_out"}',
  'reserve_stock_reservation_duration_seconds_count{outcome="limit"}',
  'reserve_stock_reservation_duration_seconds_count{outcome="failed"}',
];

describe('example app: GET /metrics', () => {
  let shop: Shop;
  useShop((opened) => (shop = opened));

  async function scrape(): Promise<Map<string, number>> {
    const res = await request(shop.url).get('/metrics').expect(200).expect('content-type', /^text\/plain; version=0\.0\.4/);
    return parseMetrics(res.text);
  }

  /** The followed samples, 0 for those not written yet (a labelled series appears on first use). */
  async function followed(): Promise<Record<string, number>> {
    const samples = await scrape();
    return Object.fromEntries(FOLLOWED.map((name) => [name, samples.get(name) ?? 0]));
  }

  /** Every followed sample moved from `before` by exactly `moved` (the others not at all). */
  async function expectMoved(before: Record<string, number>, moved: Record<string, number>): Promise<void> {
    const expected = { ...before };
    for (const [name, by] of Object.entries(moved)) expected[name] = (before[name] as number) + by;
    // The handler settles each hold before it answers; waiting only covers a settle event still on its way.
    let after: Record<string, number> = {};
    await waitFor(async () => {
      after = await followed();
      return after.reserve_stock_committed_total === expected.reserve_stock_committed_total;
    }, 'the commits to be counted');
    expect(after).to.deep.equal(expected);
  }

  it('counts exactly what a sale did', async () => {
    const sku = await addProduct(shop, 3, 'metrics');
    const before = await followed();
    const seen = shop.events.length;
    await order(shop, sku, 2).expect(201); // loads the figure, reserves 2, commits
    await order(shop, sku, 1, 'decline').expect(402); // reserves 1, releases it
    await order(shop, sku, 1).expect(201);
    await order(shop, sku, 1).expect(409); // Redis's answer: the store remembers 0 left
    await order(shop, sku, 5).expect(409); // from memory, unless soldOutCacheMs ran out in between
    const fromMemory = shop.events.slice(seen).filter((e) => e.type === 'sold-out' && e.cached).length;
    await expectMoved(before, {
      reserve_stock_reserved_total: 3,
      reserve_stock_reserved_units_total: 4,
      'reserve_stock_sold_out_total{answered_by="redis"}': 2 - fromMemory,
      'reserve_stock_sold_out_total{answered_by="memory"}': fromMemory,
      reserve_stock_committed_total: 2,
      reserve_stock_released_total: 1,
      reserve_stock_initialised_total: 1,
      'reserve_stock_reservation_duration_seconds_count{outcome="reserved"}': 3,
      'reserve_stock_reservation_duration_seconds_count{outcome="sold_out"}': 2,
    });
    expect((await scrape()).get('reserve_stock_errors_total')).to.equal(undefined);
  });

  it('counts a refusal at a per-customer limit as such, not as a reservation or a sell-out', async () => {
    const sku = shop.sku('metrics-limit');
    await request(shop.url).post('/products').set('Authorization', `Bearer ${shop.adminToken}`).send({ sku, name: 'Limited', stock: 5, perCustomerLimit: 1 }).expect(201);
    const buyer = request.agent(shop.url);
    await buyer.get('/').expect(200); // the customer cookie
    const before = await followed();
    await buyer.post('/orders').send({ sku, qty: 1 }).expect(201);
    await buyer.post('/orders').send({ sku, qty: 1 }).expect(409);
    await expectMoved(before, {
      reserve_stock_reserved_total: 1,
      reserve_stock_reserved_units_total: 1,
      reserve_stock_limit_refusals_total: 1,
      reserve_stock_committed_total: 1,
      reserve_stock_initialised_total: 1,
      'reserve_stock_reservation_duration_seconds_count{outcome="reserved"}': 1,
      'reserve_stock_reservation_duration_seconds_count{outcome="limit"}': 1,
    });
  });

  it("counts the order path's transactions, how they ended, and the database guard's refusals; GET /stats agrees", async () => {
    const names = [
      'reserve_stock_order_transactions_total',
      'reserve_stock_orders_total{outcome="paid"}',
      'reserve_stock_orders_total{outcome="declined"}',
      'reserve_stock_guard_refusals_total',
    ];
    const read = async () => {
      const samples = await scrape();
      return names.map((name) => samples.get(name) ?? 0);
    };
    const stats = async () => (await request(shop.url).get('/stats').expect(200)).body as Record<string, number>;
    const [before, statsBefore] = [await read(), await stats()];
    const sku = await addProduct(shop, 2, 'order-path');
    await order(shop, sku, 1).expect(201);
    await order(shop, sku, 1, 'decline').expect(402);
    await order(shop, sku, 5).expect(409); // Redis's refusal: no transaction
    await shop.store.setStock(sku, 3); // Redis over-states: the database has 1
    const refused = await order(shop, sku, 2);
    expect([refused.status, refused.body.error.code]).to.deep.equal([409, 'ERR_SHOP_DATABASE_REFUSED']);
    const after = await read();
    expect(after.map((n, i) => n - (before[i] as number))).to.deep.equal([3, 1, 1, 1]);
    const statsAfter = await stats();
    expect(Object.fromEntries(Object.keys(statsAfter).map((k) => [k, (statsAfter[k] as number) - (statsBefore[k] as number)]))).to.deep.equal({
      dbTransactions: 3,
      paid: 1,
      repeated: 0,
      declined: 1,
      guardRefusals: 1,
      failed: 0,
    });
  });

  it('names every metric reserve_stock_*, Node\'s process metrics included, with no sku label', async () => {
    const samples = await scrape();
    const names = metricNames(samples);
    expect(names.filter((name) => !name.startsWith('reserve_stock_'))).to.deep.equal([]);
    for (const name of ['reserve_stock_process_cpu_user_seconds_total', 'reserve_stock_nodejs_heap_size_used_bytes', 'reserve_stock_nodejs_eventloop_lag_seconds']) {
      expect(names).to.include(name);
    }
    expect([...samples.keys()].filter((sample) => sample.includes('sku='))).to.deep.equal([]);
  });

  it('each app has a registry of its own: a second shop starts from zero', async () => {
    const other = await openShop();
    try {
      const sku = await addProduct(other, 1, 'own-registry');
      await order(other, sku, 1).expect(201);
      const samples = parseMetrics((await request(other.url).get('/metrics').expect(200)).text);
      expect(samples.get('reserve_stock_reserved_total')).to.equal(1);
    } finally {
      await other.close();
    }
  });
});

describe('example metrics: the sku label is opt-in', () => {
  const errorEvent = { type: 'error', operation: 'reserve', key: 'mug', error: new Error('down') } as const;

  it('with skuLabel, the counters carry the sku; errors keep their operation', async () => {
    const metrics = createMetrics({ skuLabel: true });
    metrics.onEvent({ type: 'reserved', key: 'mug', qty: 2, remaining: 3, holdId: 'h' });
    metrics.onEvent({ type: 'expired', key: 'mug', holds: 4 });
    metrics.onEvent(errorEvent);
    const samples = parseMetrics(await metrics.registry.metrics());
    expect(samples.get('reserve_stock_reserved_total{sku="mug"}')).to.equal(1);
    expect(samples.get('reserve_stock_reserved_units_total{sku="mug"}')).to.equal(2);
    expect(samples.get('reserve_stock_expired_holds_total{sku="mug"}')).to.equal(4);
    expect(samples.get('reserve_stock_errors_total{operation="reserve",sku="mug"}')).to.equal(1);
  });

  it('without it, one series per counter (by operation for errors)', async () => {
    const metrics = createMetrics();
    metrics.onEvent({ type: 'reserved', key: 'mug', qty: 2, remaining: 3, holdId: 'h' });
    metrics.onEvent(errorEvent);
    const samples = parseMetrics(await metrics.registry.metrics());
    expect(samples.get('reserve_stock_reserved_total')).to.equal(1);
    expect(samples.get('reserve_stock_errors_total{operation="reserve"}')).to.equal(1);
  });
});
