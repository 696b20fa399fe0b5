/**
 * Redis failures, on a private redis-server this file starts and stops
 * itself (never the shared one): NOSCRIPT after SCRIPT FLUSH or a restart,
 * Redis stopped (503 quickly, whatever the client's retry settings, then
 * recovery), Redis too slow (503, and the late deduction given back), and a
 * give-back that fails (reported, never an unhandled rejection).
 */
import { expect } from 'chai';
import Redis, { type RedisOptions } from 'ioredis';
import request from 'supertest';
import { createStockStore, reserveStock, stockKeys, type Reservation, type ReserveResult, type StockStoreOptions } from '../lib';
import { express, jsonErrors, listen } from './helpers/app';
import { EventLog } from './helpers/events';
import { expectHoldId, withoutHold } from './helpers/holds';
import { uniquePrefix } from './helpers/redis';
import { usePrivateRedis } from './helpers/private-redis';
import { pings, type RedisServer } from './helpers/redis-server';
import { sleep, waitFor } from './helpers/wait';

const UNAVAILABLE_CODES = ['ERR_RESERVE_STOCK_UNAVAILABLE', 'ERR_RESERVE_STOCK_NOT_CONNECTED'];

describe('core: Redis outages (private redis-server)', function () {
  this.timeout(60_000);

  let server: RedisServer;
  let admin: Redis;
  /** A client of the private server; closed after the test. */
  const client = usePrivateRedis({ args: ['--enable-debug-command', 'local'] }, (opened) => ({ server, admin } = opened));
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  function make(options: Partial<StockStoreOptions> = {}, clientOptions: RedisOptions = {}) {
    const redis = client(clientOptions);
    const log = new EventLog();
    const prefix = uniquePrefix('outage');
    const store = createStockStore({ redis, prefix, onEvent: log.onEvent, ...options });
    return { redis, log, prefix, store };
  }

  async function errorOf(promise: Promise<unknown>): Promise<{ status?: number; code?: string }> {
    return promise.then(
      (value) => {
        throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
      },
      (error: { status?: number; code?: string }) => error,
    );
  }

  async function errorstat(name: string): Promise<number> {
    const info = await admin.info('errorstats');
    const match = new RegExp(`errorstat_${name}:count=(\\d+)`).exec(info);
    return match ? Number(match[1]) : 0;
  }

  before(() => {
    process.on('unhandledRejection', onUnhandled);
  });

  after(() => {
    process.off('unhandledRejection', onUnhandled);
    expect(unhandled, 'unhandled rejections during the outage tests').to.deep.equal([]);
  });

  describe('the private redis-server helper', () => {
    it('answers PING on its loopback port, and restarts on the same port', async () => {
      expect(server.url).to.equal(`redis://127.0.0.1:${server.port}`);
      expect(await pings(server.port)).to.equal(true);
      const port = server.port;
      const pid = server.pid;
      await server.restart();
      expect(server.port).to.equal(port);
      expect(server.pid).to.be.a('number').and.not.equal(pid);
      expect(await pings(server.port)).to.equal(true);
      await server.stop();
      expect(server.running).to.equal(false);
      expect(await pings(server.port, 300)).to.equal(false);
      await server.start();
      expect(await pings(server.port)).to.equal(true);
    });
  });

  describe('NOSCRIPT recovery', () => {
    it('after SCRIPT FLUSH every script keeps working, with no error reaching the caller', async () => {
      const { store, log } = make();
      const first = await store.reserve('sku', 1, () => 10);
      expect(withoutHold(first, 'sku')).to.deep.equal({ status: 'reserved', remaining: 9 });
      if (first.status !== 'reserved') throw new Error('not reserved');
      await admin.script('FLUSH');
      expect(await store.release(first.holdId)).to.deep.equal({ state: 'released', changed: true });
      await admin.script('FLUSH');
      expect(await store.getStock('sku')).to.equal(10);

      await admin.script('FLUSH');
      const before = await errorstat('NOSCRIPT');
      const second = await store.reserve('sku', 2);
      expect(withoutHold(second, 'sku')).to.deep.equal({ status: 'reserved', remaining: 8 });
      if (second.status !== 'reserved') throw new Error('not reserved');
      // The client did send EVALSHA, got NOSCRIPT, and recovered by itself.
      expect(await errorstat('NOSCRIPT')).to.be.above(before);

      await admin.script('FLUSH');
      expect((await store.extend(second.holdId, 1800)).state).to.equal('held');
      await admin.script('FLUSH');
      expect(await store.getHolds('sku')).to.deep.include({ count: 1, units: 2 });
      await admin.script('FLUSH');
      expect(await store.commit(second.holdId)).to.deep.equal({ state: 'committed', changed: true });
      await admin.script('FLUSH');
      expect(await store.addStock('sku', 2)).to.equal(10);
      await admin.script('FLUSH');
      expect(await store.reconcile('sku', 10)).to.deep.include({ redis: 10, held: 0, drift: 0, fixed: false });
      await admin.script('FLUSH');
      expect(await store.reconcile('sku', 12, { fix: true })).to.deep.include({ redis: 10, drift: -2, fixed: true });
      expect(await store.getStock('sku')).to.equal(12);
      await admin.script('FLUSH');
      await store.setStock('sku', 10);
      await admin.script('FLUSH');
      expect(withoutHold(await store.reserve('cold', 3, () => 5), 'cold')).to.deep.equal({ status: 'reserved', remaining: 2 });
      expect(log.count('error')).to.equal(0);
    });

    it('over HTTP after SCRIPT FLUSH, including the rollback', async () => {
      const { store, log } = make();
      await store.setStock('sku', 5);
      const app = express();
      app.post('/ok', reserveStock({ store, key: 'sku' }), (_req, res) => res.status(201).end());
      app.post('/fail', reserveStock({ store, key: 'sku' }), (_req, res) => res.status(500).end());
      app.use(jsonErrors);
      await admin.script('FLUSH');
      expect((await request(app).post('/ok')).status).to.equal(201);
      await admin.script('FLUSH');
      expect((await request(app).post('/fail')).status).to.equal(500);
      await waitFor(() => log.count('released') === 1 && log.count('committed') === 1, 'the commit and the give-back');
      expect(await store.getStock('sku')).to.equal(4);
      expect(await store.getHolds('sku')).to.deep.include({ count: 0, units: 0 });
      expect(log.count('error')).to.equal(0);
    });

    it('after a restart (scripts and data gone): the figure is loaded again and reservations succeed', async () => {
      const { store, redis } = make();
      let loads = 0;
      const loader = () => {
        loads++;
        return 10;
      };
      expect(withoutHold(await store.reserve('sku', 1, loader), 'sku')).to.deep.equal({ status: 'reserved', remaining: 9 });
      await server.restart();
      await waitFor(() => redis.status === 'ready', 'the client to reconnect', 15_000);
      expect(withoutHold(await store.reserve('sku', 1, loader), 'sku')).to.deep.equal({ status: 'reserved', remaining: 9 });
      expect(loads).to.equal(2);
    });
  });

  describe('Redis stopped', () => {
    it('503 within timeoutMs + 1.5 s, even with maxRetriesPerRequest: null; success once restarted', async () => {
      const TIMEOUT = 500;
      const { store, redis, log } = make({ timeoutMs: TIMEOUT }, { maxRetriesPerRequest: null });
      expect(redis.options.maxRetriesPerRequest).to.equal(null);
      const loader = () => 10;
      expect(withoutHold(await store.reserve('sku', 1, loader), 'sku')).to.deep.equal({ status: 'reserved', remaining: 9 });

      await server.stop();
      // Across the client's states while Redis is gone (close, reconnecting, connecting...).
      for (let i = 0; i < 8; i++) {
        const started = Date.now();
        const error = await errorOf(store.reserve('sku', 1, loader));
        const elapsed = Date.now() - started;
        expect(error.status, `attempt ${i}`).to.equal(503);
        expect(UNAVAILABLE_CODES, `attempt ${i}`).to.include(error.code);
        expect(elapsed, `attempt ${i} took ${elapsed} ms`).to.be.below(TIMEOUT + 1500);
        await sleep(150);
      }
      expect(log.of('error').map((e) => `${e.operation}:${e.key}`)).to.deep.equal(Array(8).fill('reserve:sku'));

      await server.start();
      let result: ReserveResult | undefined;
      await waitFor(
        async () => {
          result = await store.reserve('sku', 1, loader).catch(() => undefined);
          return result !== undefined;
        },
        'a reservation to succeed after the restart',
        15_000,
        100,
      );
      // The data went with the old process: the figure is loaded again.
      expect(withoutHold(result as ReserveResult, 'sku')).to.deep.equal({ status: 'reserved', remaining: 9 });
      expect(withoutHold(await store.reserve('sku', 2), 'sku')).to.deep.equal({ status: 'reserved', remaining: 7 });
      // No stale deduction from the outage lands afterwards.
      await sleep(300);
      expect(await store.getStock('sku')).to.equal(7);
    });

    it('over HTTP: 503 JSON within bounds while down, 201 after the restart', async () => {
      const TIMEOUT = 500;
      const { store, redis } = make({ timeoutMs: TIMEOUT }, { maxRetriesPerRequest: null });
      const app = express();
      app.post('/order', reserveStock({ store, key: 'sku', loader: () => 10 }), (_req, res) => res.status(201).end());
      app.use(jsonErrors);
      const http = await listen(app);
      try {
        expect((await request(http.url).post('/order')).status).to.equal(201);
        await server.stop();
        for (let i = 0; i < 4; i++) {
          const started = Date.now();
          const res = await request(http.url).post('/order');
          expect(Date.now() - started).to.be.below(TIMEOUT + 1500);
          expect(res.status).to.equal(503);
          expect(UNAVAILABLE_CODES).to.include(res.body.error.code);
          expect(res.headers['retry-after']).to.equal('1');
          await sleep(200);
        }
        await server.start();
        await waitFor(() => redis.status === 'ready', 'the client to reconnect', 15_000);
        expect((await request(http.url).post('/order')).status).to.equal(201);
        expect(await store.getStock('sku')).to.equal(9);
      } finally {
        await http.close();
      }
    });

    it('a store made by the middleware from `redis` works and reports through its onEvent', async () => {
      const redis = client();
      const log = new EventLog();
      const app = express();
      app.post('/order', reserveStock({ redis, key: 'sku', loader: () => 2, onEvent: log.onEvent }), (_req, res) =>
        res.status(201).end(),
      );
      app.use(jsonErrors);
      expect((await request(app).post('/order')).status).to.equal(201);
      expect(await redis.get(stockKeys('stock:', 'sku').stock)).to.equal('1');
      await waitFor(() => log.count('committed') === 1, 'the 201 to commit the hold');
      expect(log.events.map((e) => e.type)).to.deep.equal(['initialised', 'reserved', 'committed']);
    });
  });

  describe('Redis too slow', () => {
    const pauses: [string, (admin: Redis) => Promise<unknown>][] = [
      ['CLIENT PAUSE 3000', (a) => a.call('CLIENT', 'PAUSE', '3000', 'ALL')],
      ['DEBUG SLEEP 3', (a) => a.call('DEBUG', 'SLEEP', '3')],
    ];
    for (const [label, pause] of pauses) {
      it(`${label}: 503 within bounds, and the deduction that ran late is given back`, async () => {
        const TIMEOUT = 500;
        const { store, log } = make({ timeoutMs: TIMEOUT });
        await store.setStock('sku', 10);
        await store.getStock('sku'); // connected and warm

        const paused = pause(admin).catch(() => undefined);
        await sleep(50);
        const started = Date.now();
        const error = await errorOf(store.reserve('sku', 3));
        const elapsed = Date.now() - started;
        expect(error).to.include({ status: 503, code: 'ERR_RESERVE_STOCK_UNAVAILABLE' });
        expect(elapsed).to.be.at.least(TIMEOUT - 20);
        expect(elapsed).to.be.below(TIMEOUT + 1500);
        await paused;

        await waitFor(() => log.count('released') === 1, 'the late deduction to be given back', 8000);
        const [released] = log.of('released');
        expectHoldId(released?.holdId, 'sku');
        expect(log.of('released')).to.deep.equal([{ type: 'released', key: 'sku', holdId: released?.holdId }]);
        await sleep(200);
        expect(await store.getStock('sku')).to.equal(10);
        expect(await store.getHolds('sku')).to.deep.include({ count: 0, units: 0 });
        expect(log.count('reserved')).to.equal(0);
        expect(log.count('released')).to.equal(1);
      });
    }

    it('a late initialisation is given back too: the loaded figure stands whole', async () => {
      const TIMEOUT = 500;
      const { store, log } = make({ timeoutMs: TIMEOUT });
      await store.getStock('warm-up');
      let paused: Promise<unknown> = Promise.resolve();
      const error = await errorOf(
        store.reserve('cold', 3, async () => {
          // Redis stalls right when the loaded figure is written.
          paused = admin.call('CLIENT', 'PAUSE', '2000', 'ALL');
          await sleep(50);
          return 10;
        }),
      );
      expect(error).to.include({ status: 503 });
      await paused;
      await sleep(2000); // until the pause is over
      // The caller was told 503, so nothing may stay deducted.
      await waitFor(
        async () => (await store.getStock('cold').catch(() => null)) === 10,
        'the late deduction to be given back',
        5000,
      ).catch(() => undefined);
      expect(await store.getStock('cold'), 'units left after a 503').to.equal(10);
      expect(log.count('released')).to.equal(1);
    });
  });

  describe('a give-back while Redis is down', () => {
    it("is reported as an 'error' event (operation 'release') and never rejects", async () => {
      const { store, redis, log } = make({ timeoutMs: 500 });
      await store.setStock('sku', 10);
      const localUnhandled: unknown[] = [];
      const listener = (reason: unknown) => localUnhandled.push(reason);
      process.on('unhandledRejection', listener);
      try {
        const app = express();
        app.post('/order', reserveStock({ store, key: 'sku', qty: 2 }), async (_req, res) => {
          await server.stop();
          await waitFor(() => redis.status !== 'ready', 'the client to notice');
          res.status(500).end();
        });
        app.use(jsonErrors);
        expect((await request(app).post('/order')).status).to.equal(500);
        await waitFor(() => log.count('error') >= 1, 'the failed give-back to be reported', 5000);
        const [event] = log.of('error');
        expect(event).to.include({ type: 'error', operation: 'release', key: 'sku' });
        expect(event?.error).to.be.instanceOf(Error).and.include({ status: 503 });
        // The retries fail too, and are reported the same way.
        await waitFor(() => log.count('error') >= 2, 'the retry to be reported', 5000);
        expect(log.of('error').every((e) => e.operation === 'release')).to.equal(true);
        expect(log.count('released')).to.equal(0);
        expect(localUnhandled).to.deep.equal([]);
      } finally {
        process.off('unhandledRejection', listener);
      }
    });

    it('release() called by the handler while Redis is down resolves (still held, retried), never rejects', async () => {
      const { store, redis, log } = make({ timeoutMs: 500 });
      await store.setStock('sku', 10);
      let outcome: unknown;
      const app = express();
      app.post('/order', reserveStock({ store, key: 'sku' }), async (req, res) => {
        await server.stop();
        await waitFor(() => redis.status !== 'ready', 'the client to notice');
        await req.reservation?.release().then(
          (result) => (outcome = result),
          () => (outcome = 'rejected'),
        );
        res.status(200).json({ state: req.reservation?.state });
      });
      app.use(jsonErrors);
      const res = await request(app).post('/order');
      expect(res.status).to.equal(200);
      // Not settled yet: the hold stays open (retried in the background, expiry as the backstop).
      expect(res.body.state).to.equal('held');
      expect(outcome).to.deep.equal({ state: 'held', changed: false });
      expect(log.of('error').map((e) => e.operation)).to.include('release');
    });

    it('a refused give-back is retried once Redis is back, and returns the units exactly once', async () => {
      // A steady reconnect delay: while Redis is down the client sits in
      // 'reconnecting', so the give-back is refused unsent (and retried).
      const { store, redis, log } = make({ timeoutMs: 1000 }, { retryStrategy: () => 200 });
      await store.setStock('sku', 10, 0);
      let holdId: string | undefined;
      const app = express();
      app.post('/order', reserveStock({ store, key: 'sku', qty: 4 }), async (req, res) => {
        holdId = (req.reservation as Reservation).holdId;
        await admin.save(); // keep the figure (6) across the restart
        await server.stop();
        await waitFor(() => redis.status !== 'ready', 'the client to notice');
        res.status(500).end();
      });
      app.use(jsonErrors);
      expect((await request(app).post('/order')).status).to.equal(500);
      await waitFor(() => log.count('error') >= 1, 'the refused give-back');
      expect(log.of('error')[0]?.error).to.include({ status: 503, code: 'ERR_RESERVE_STOCK_NOT_CONNECTED' });
      await server.start();
      await waitFor(() => log.count('released') === 1, 'the retried give-back', 12_000);
      expectHoldId(holdId, 'sku');
      expect(log.of('released')).to.deep.equal([{ type: 'released', key: 'sku', holdId }]);
      await sleep(500);
      expect(await store.getStock('sku')).to.equal(10);
      expect(await store.getHolds('sku')).to.deep.include({ count: 0, units: 0 });
      expect(log.count('released')).to.equal(1);
    });
  });
});
