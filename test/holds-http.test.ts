/**
 * Holds through the middleware: `autoCommit: false` leaves a 2xx's hold open
 * (its id in `req.reservation.holdId`) for another process to commit,
 * release or extend by id; by default a 2xx commits it; a hold nobody
 * settles expires; and `req.reservation.extend()`.
 */
import { expect } from 'chai';
import request from 'supertest';
import { createStockStore, reserveStock, type Reservation, type ReserveStockOptions, type StockStore } from '../lib';
import { express, jsonErrors, listen } from './helpers/app';
import { EventLog } from './helpers/events';
import { expectExpiry, expectHoldId } from './helpers/holds';
import { useSharedRedis } from './helpers/redis';
import { sleep, waitFor } from './helpers/wait';

const shared = useSharedRedis('holds-http');

/** Long enough for a settle that should not happen to have happened. */
const SETTLE_MS = 250;

interface Checkout {
  url: string;
  store: StockStore;
  log: EventLog;
  prefix: string;
  reservation(): Reservation;
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/**
 * A checkout app: POST /checkout reserves 2 of `sku` and answers `status`
 * with the hold's id and expiry (or runs `handler`).
 */
async function checkout(
  options: Partial<ReserveStockOptions> = {},
  handler?: (req: import('express').Request, res: import('express').Response) => unknown,
  stock = 10,
): Promise<Checkout> {
  const prefix = shared.prefix();
  const log = new EventLog();
  const store = createStockStore({ redis: shared.redis, prefix, onEvent: log.onEvent });
  await store.setStock('sku', stock);
  let last: Reservation | undefined;
  const app = express();
  app.use(express.json());
  app.post(
    '/checkout',
    reserveStock({ store, key: 'sku', qty: 2, ...options }),
    (req, _res, next) => {
      last = req.reservation as Reservation;
      next();
    },
    handler ??
      ((req, res) => {
        const r = req.reservation as Reservation;
        res.status(202).json({ holdId: r.holdId, expiresAt: r.expiresAt, state: r.state });
      }),
  );
  app.use(jsonErrors);
  const http = await listen(app);
  closers.push(http.close);
  return {
    url: http.url,
    store,
    log,
    prefix,
    reservation() {
      if (!last) throw new Error('the handler never ran');
      return last;
    },
  };
}

/**
 * Another process's view: its own connection and store, and a webhook that
 * settles a hold by id (the payment provider calling back).
 */
async function webhook(prefix: string): Promise<{ url: string; store: StockStore; log: EventLog }> {
  const log = new EventLog();
  const store = createStockStore({ redis: shared.client(), prefix, onEvent: log.onEvent });
  const app = express();
  app.use(express.json());
  app.post('/payment', async (req, res) => {
    const { holdId, outcome } = req.body as { holdId: string; outcome: 'paid' | 'failed' | 'slow' };
    const result =
      outcome === 'paid' ? await store.commit(holdId) : outcome === 'failed' ? await store.release(holdId) : await store.extend(holdId, 3600);
    res.json(result);
  });
  app.use(jsonErrors);
  const http = await listen(app);
  closers.push(http.close);
  return { url: http.url, store, log };
}

describe('holds over HTTP: autoCommit', function () {
  this.timeout(30_000);

  it('default: a 2xx commits the hold (the units are kept for good, nothing stays open)', async () => {
    const shop = await checkout();
    const res = await request(shop.url).post('/checkout');
    expect(res.status).to.equal(202);
    expectHoldId(res.body.holdId, 'sku');
    await waitFor(() => shop.log.count('committed') === 1, 'the commit');
    await sleep(SETTLE_MS);
    expect(shop.log.of('committed')).to.deep.equal([{ type: 'committed', key: 'sku', holdId: res.body.holdId }]);
    expect(shop.reservation().state).to.equal('committed');
    expect(await shop.store.getHolds('sku')).to.deep.include({ count: 0, units: 0 });
    expect(await shop.store.getStock('sku')).to.equal(8);
  });

  it('autoCommit: false: a 2xx leaves the hold open, its id in req.reservation.holdId', async () => {
    const shop = await checkout({ autoCommit: false, holdSeconds: 600 });
    const res = await request(shop.url).post('/checkout');
    expect(res.status).to.equal(202);
    const { holdId, expiresAt } = res.body as { holdId: string; expiresAt: number };
    expect(holdId).to.equal(shop.reservation().holdId);
    expectHoldId(holdId, 'sku');
    expectExpiry(expiresAt, 600);
    expect(res.body.state).to.equal('held');
    await sleep(SETTLE_MS);
    expect(shop.reservation().state).to.equal('held');
    expect(shop.log.count('committed') + shop.log.count('released')).to.equal(0);
    expect(await shop.store.getHolds('sku')).to.deep.equal({ key: 'sku', count: 1, units: 2, inDoubt: 0, holds: [{ holdId, qty: 2, expiresAt, state: 'held' }] });
    expect(await shop.store.getStock('sku')).to.equal(8);
  });

  it('autoCommit: false: another process commits it by id (the payment webhook): kept once', async () => {
    const shop = await checkout({ autoCommit: false });
    const { holdId } = (await request(shop.url).post('/checkout').expect(202)).body as { holdId: string };
    const hook = await webhook(shop.prefix);
    expect((await request(hook.url).post('/payment').send({ holdId, outcome: 'paid' })).body).to.deep.equal({
      state: 'committed',
      changed: true,
    });
    // The provider calls twice, or says "failed" late: nothing moves.
    expect((await request(hook.url).post('/payment').send({ holdId, outcome: 'paid' })).body).to.deep.equal({
      state: 'committed',
      changed: false,
    });
    expect((await request(hook.url).post('/payment').send({ holdId, outcome: 'failed' })).body).to.deep.equal({
      state: 'committed',
      changed: false,
    });
    expect(hook.log.of('committed')).to.deep.equal([{ type: 'committed', key: 'sku', holdId }]);
    expect(shop.log.count('committed') + shop.log.count('released')).to.equal(0);
    expect(await shop.store.getStock('sku')).to.equal(8);
    expect(await shop.store.getHolds('sku')).to.deep.include({ count: 0, units: 0 });
  });

  it('autoCommit: false: another process releases it by id: the units come back once', async () => {
    const shop = await checkout({ autoCommit: false });
    const { holdId } = (await request(shop.url).post('/checkout').expect(202)).body as { holdId: string };
    const hook = await webhook(shop.prefix);
    expect((await request(hook.url).post('/payment').send({ holdId, outcome: 'failed' })).body).to.deep.equal({
      state: 'released',
      changed: true,
    });
    expect((await request(hook.url).post('/payment').send({ holdId, outcome: 'failed' })).body).to.deep.equal({
      state: 'released',
      changed: false,
    });
    expect((await request(hook.url).post('/payment').send({ holdId, outcome: 'paid' })).body).to.deep.equal({
      state: 'released',
      changed: false,
    });
    expect(await shop.store.getStock('sku')).to.equal(10);
    expect(hook.log.of('released')).to.deep.equal([{ type: 'released', key: 'sku', holdId }]);
  });

  it('autoCommit: false: another process extends it by id, then commits it after the first deadline', async () => {
    const shop = await checkout({ autoCommit: false, holdSeconds: 1 });
    const { holdId, expiresAt } = (await request(shop.url).post('/checkout').expect(202)).body as { holdId: string; expiresAt: number };
    expectExpiry(expiresAt, 1, 3000);
    const hook = await webhook(shop.prefix);
    const slow = (await request(hook.url).post('/payment').send({ holdId, outcome: 'slow' })).body as { state: string; expiresAt: number };
    expect(slow.state).to.equal('held');
    expectExpiry(slow.expiresAt, 3600);
    await sleep(Math.max(0, expiresAt - Date.now()) + 300);
    expect(await shop.store.getStock('sku'), 'past the first deadline the units are still held').to.equal(8);
    expect((await request(hook.url).post('/payment').send({ holdId, outcome: 'paid' })).body).to.deep.equal({
      state: 'committed',
      changed: true,
    });
    expect(await shop.store.getStock('sku')).to.equal(8);
    expect(shop.log.count('expired') + hook.log.count('expired')).to.equal(0);
  });

  it('autoCommit: false and nobody settles: the hold expires and the units come back once', async () => {
    const shop = await checkout({ autoCommit: false, holdSeconds: 1 });
    const { holdId, expiresAt } = (await request(shop.url).post('/checkout').expect(202)).body as { holdId: string; expiresAt: number };
    await sleep(Math.max(0, expiresAt - Date.now()) + 150);
    expect(await shop.store.getStock('sku')).to.equal(10);
    expect(await shop.store.getStock('sku')).to.equal(10);
    expect(shop.log.of('expired')).to.deep.equal([{ type: 'expired', key: 'sku', holds: 1 }]);
    const hook = await webhook(shop.prefix);
    expect((await request(hook.url).post('/payment').send({ holdId, outcome: 'paid' })).body).to.deep.equal({
      state: 'expired',
      changed: false,
    });
    expect(await shop.store.getStock('sku')).to.equal(10);
  });

  it('autoCommit: false still releases on a failure (releaseWhen)', async () => {
    const shop = await checkout({ autoCommit: false }, (_req, res) => res.status(402).json({ declined: true }));
    expect((await request(shop.url).post('/checkout')).status).to.equal(402);
    await waitFor(() => shop.log.count('released') === 1, 'the give-back');
    await sleep(SETTLE_MS);
    expect(shop.log.of('released')).to.deep.equal([{ type: 'released', key: 'sku', holdId: shop.reservation().holdId }]);
    expect(shop.reservation().state).to.equal('released');
    expect(await shop.store.getStock('sku')).to.equal(10);
  });

  it('autoCommit: false: the handler may still commit itself', async () => {
    const shop = await checkout({ autoCommit: false }, async (req, res) => {
      const result = await req.reservation?.commit();
      res.status(201).json(result);
    });
    const res = await request(shop.url).post('/checkout');
    expect(res.body).to.deep.equal({ state: 'committed', changed: true });
    await sleep(SETTLE_MS);
    expect(shop.log.of('committed')).to.deep.equal([{ type: 'committed', key: 'sku', holdId: shop.reservation().holdId }]);
    expect(await shop.store.getStock('sku')).to.equal(8);
  });
});

describe('holds over HTTP: req.reservation.extend()', function () {
  this.timeout(30_000);

  it('while open: the hold lasts longer, and the 2xx then commits it', async () => {
    const shop = await checkout({ holdSeconds: 1 }, async (req, res) => {
      const r = req.reservation as Reservation;
      const extended = await r.extend(120);
      const open = await shop.store.getHolds('sku');
      // The payment takes longer than the first deadline.
      await sleep(Math.max(0, r.expiresAt - Date.now()) + 200);
      res.status(201).json({ extended, open, stock: await shop.store.getStock('sku'), state: r.state });
    });
    const res = await request(shop.url).post('/checkout');
    expect(res.status).to.equal(201);
    const { holdId, expiresAt } = shop.reservation();
    expectExpiry(expiresAt, 1, 3000);
    expect(res.body.extended.state).to.equal('held');
    expectExpiry(res.body.extended.expiresAt, 120, 5000);
    expect(res.body.open).to.deep.equal({ key: 'sku', count: 1, units: 2, inDoubt: 0, holds: [{ holdId, qty: 2, expiresAt: res.body.extended.expiresAt, state: 'held' }] });
    expect(res.body.stock).to.equal(8);
    expect(res.body.state).to.equal('held');
    await waitFor(() => shop.log.count('committed') === 1, 'the commit');
    expect(shop.log.count('expired')).to.equal(0);
    expect(await shop.store.getStock('sku')).to.equal(8);
  });

  it('after expiry: extend says so, the units are back once, and the answer commits nothing', async () => {
    const shop = await checkout({ holdSeconds: 1 }, async (req, res) => {
      const r = req.reservation as Reservation;
      await sleep(Math.max(0, r.expiresAt - Date.now()) + 200);
      const extended = await r.extend(120);
      res.status(extended.state === 'held' ? 201 : 410).json({ extended, state: r.state });
    });
    const res = await request(shop.url).post('/checkout');
    expect(res.status).to.equal(410);
    expect(res.body).to.deep.equal({ extended: { state: 'expired', expiresAt: null }, state: 'expired' });
    await sleep(SETTLE_MS);
    expect(shop.reservation().state).to.equal('expired');
    expect(shop.log.of('expired')).to.deep.equal([{ type: 'expired', key: 'sku', holds: 1 }]);
    expect(shop.log.count('committed') + shop.log.count('released')).to.equal(0);
    expect(await shop.store.getStock('sku')).to.equal(10);
  });

  for (const end of ['commit', 'release'] as const) {
    it(`after ${end}(): extend says so and changes nothing`, async () => {
      const shop = await checkout({}, async (req, res) => {
        const r = req.reservation as Reservation;
        await r[end]();
        const extended = await r.extend(120);
        res.status(200).json({ extended, state: r.state, stock: await shop.store.getStock('sku') });
      });
      const res = await request(shop.url).post('/checkout');
      const state = end === 'commit' ? 'committed' : 'released';
      expect(res.body).to.deep.equal({ extended: { state, expiresAt: null }, state, stock: end === 'commit' ? 8 : 10 });
      await sleep(SETTLE_MS);
      expect(await shop.store.getStock('sku')).to.equal(end === 'commit' ? 8 : 10);
      expect(shop.log.count('committed')).to.equal(end === 'commit' ? 1 : 0);
      expect(shop.log.count('released')).to.equal(end === 'release' ? 1 : 0);
    });
  }
});
