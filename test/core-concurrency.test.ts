/**
 * Overselling under concurrency, and the initialisation lock: one loader call
 * across connections and processes, a dead holder, compare-and-delete.
 */
import { expect } from 'chai';
import request from 'supertest';
import { createStockStore, reserveStock, stockKeys, type Reservation, type ReserveResult, type StockStore } from '../lib';
import { express, jsonErrors, listen } from './helpers/app';
import { EventLog } from './helpers/events';
import { startFixture } from './helpers/fixture-process';
import { expectHoldId, withoutHold } from './helpers/holds';
import { REDIS_URL, useSharedRedis } from './helpers/redis';
import { sleep, waitFor } from './helpers/wait';

const shared = useSharedRedis('core-conc');

/** Reads the figure in a tight loop until stopped; returns the lowest value seen. */
function watchMinimum(read: () => Promise<string | null>): { stop(): Promise<number> } {
  let running = true;
  let min = Infinity;
  const loop = (async () => {
    while (running) {
      const raw = await read();
      if (raw !== null) min = Math.min(min, Number(raw));
      await sleep(1);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return min;
    },
  };
}

function tally(results: ReserveResult[]) {
  return {
    reserved: results.filter((r) => r.status === 'reserved').length,
    insufficient: results.filter((r) => r.status === 'insufficient').length,
    unlimited: results.filter((r) => r.status === 'unlimited').length,
  };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('core: concurrency', function () {
  this.timeout(60_000);

  describe('100 in stock, 1,000 concurrent buyers', () => {
    it('store.reserve: exactly 100 reserved, 900 insufficient, stock 0 and never negative', async () => {
      const prefix = shared.prefix();
      const store = createStockStore({ redis: shared.redis, prefix });
      const { stock } = stockKeys(prefix, 'sku-1');
      await store.setStock('sku-1', 100);
      const watcher = watchMinimum(() => shared.redis.get(stock));

      const results = await Promise.all(range(1000).map(() => store.reserve('sku-1', 1)));
      const min = await watcher.stop();

      expect(tally(results)).to.deep.equal({ reserved: 100, insufficient: 900, unlimited: 0 });
      const remaining = results.flatMap((r) => (r.status === 'reserved' ? [r.remaining] : []));
      expect(remaining.sort((a, b) => a - b)).to.deep.equal(range(100));
      for (const r of results) if (r.status === 'insufficient') expect(r.available).to.equal(0);
      expect(await store.getStock('sku-1')).to.equal(0);
      expect(min).to.be.at.least(0);
      // Every success is its own open hold of one unit.
      const ids = results.flatMap((r) => (r.status === 'reserved' ? [r.holdId] : []));
      for (const id of ids) expectHoldId(id, 'sku-1');
      expect(new Set(ids).size).to.equal(100);
      const open = await store.getHolds('sku-1');
      expect(open).to.deep.include({ count: 100, units: 100 });
      expect(open.holds.map((h) => h.holdId).sort()).to.deep.equal([...ids].sort());
    });

    it('over HTTP: exactly 100 x 201, 900 x 409 with key/requested/available, stock ends at 0', async () => {
      const prefix = shared.prefix();
      const log = new EventLog();
      const store = createStockStore({ redis: shared.redis, prefix, onEvent: log.onEvent });
      const { stock } = stockKeys(prefix, 'sku-http');
      await store.setStock('sku-http', 100);

      const app = express();
      app.post('/order', reserveStock({ store, key: 'sku-http', qty: 1 }), (req, res) => {
        res.status(201).json({ remaining: (req.reservation as Reservation).remaining });
      });
      app.use(jsonErrors);
      const http = await listen(app);
      try {
        const watcher = watchMinimum(() => shared.redis.get(stock));
        const responses = await Promise.all(range(1000).map(() => request(http.url).post('/order')));
        const min = await watcher.stop();

        const ok = responses.filter((r) => r.status === 201);
        const soldOut = responses.filter((r) => r.status === 409);
        expect(ok.length, 'successes').to.equal(100);
        expect(soldOut.length, 'sold out').to.equal(900);
        expect(ok.map((r) => r.body.remaining as number).sort((a, b) => a - b)).to.deep.equal(range(100));
        for (const r of soldOut) {
          expect(r.body.error).to.include({
            status: 409,
            code: 'ERR_RESERVE_STOCK_SOLD_OUT',
            key: 'sku-http',
            requested: 1,
            available: 0,
          });
        }
        // A 2xx without commit commits the hold: the units are kept for good, nothing comes back.
        await waitFor(() => log.count('committed') === 100, '100 commits');
        await sleep(200);
        expect(log.count('committed')).to.equal(100);
        expect(log.count('released')).to.equal(0);
        expect(new Set(log.of('committed').map((e) => e.holdId)).size).to.equal(100);
        expect(await store.getHolds('sku-http')).to.deep.equal({ key: 'sku-http', count: 0, units: 0, inDoubt: 0, holds: [] });
        expect(await store.getStock('sku-http')).to.equal(0);
        expect(min).to.be.at.least(0);
      } finally {
        await http.close();
      }
    });

    it('over HTTP with every other handler failing: units kept == orders placed, each failure given back once', async () => {
      const prefix = shared.prefix();
      const log = new EventLog();
      const store = createStockStore({ redis: shared.redis, prefix, onEvent: log.onEvent });
      const { stock } = stockKeys(prefix, 'flaky');
      await store.setStock('flaky', 100);
      const app = express();
      app.post('/order', reserveStock({ store, key: 'flaky' }), (req, res) => {
        if (req.get('x-fail') === 'yes') res.status(500).json({ failed: true });
        else res.status(201).json({ ok: true });
      });
      app.use(jsonErrors);
      const http = await listen(app);
      try {
        const watcher = watchMinimum(() => shared.redis.get(stock));
        const responses = await Promise.all(
          range(1000).map((i) => request(http.url).post('/order').set('x-fail', i % 2 ? 'yes' : 'no')),
        );
        const placed = responses.filter((r) => r.status === 201).length;
        const failed = responses.filter((r) => r.status === 500).length;
        const soldOut = responses.filter((r) => r.status === 409).length;
        expect(placed + failed + soldOut).to.equal(1000);
        await waitFor(() => log.count('released') === failed, `${failed} give-backs`, 10_000);
        await waitFor(() => log.count('committed') === placed, `${placed} commits`, 10_000);
        await sleep(200);
        const min = await watcher.stop();
        expect(log.count('released')).to.equal(failed);
        expect(log.count('committed')).to.equal(placed);
        const settled = [...log.of('released'), ...log.of('committed')].map((e) => e.holdId);
        expect(new Set(settled).size, 'each hold settled once').to.equal(placed + failed);
        expect(await store.getHolds('flaky')).to.deep.include({ count: 0, units: 0 });
        expect(log.count('reserved')).to.equal(placed + failed);
        expect(await store.getStock('flaky')).to.equal(100 - placed);
        expect(placed).to.be.at.most(100);
        expect(min).to.be.at.least(0);
      } finally {
        await http.close();
      }
    });

    it('mixed quantities never oversell: units deducted equal units granted', async () => {
      const prefix = shared.prefix();
      const store = createStockStore({ redis: shared.redis, prefix });
      await store.setStock('mix', 100);
      const qtys = range(400).map((i) => (i % 3) + 1);
      const results = await Promise.all(qtys.map((q) => store.reserve('mix', q)));
      const granted = results.reduce((sum, r, i) => sum + (r.status === 'reserved' ? (qtys[i] as number) : 0), 0);
      const left = (await store.getStock('mix')) as number;
      expect(left).to.be.at.least(0);
      expect(granted + left).to.equal(100);
      expect(await store.getHolds('mix')).to.deep.include({ count: results.filter((r) => r.status === 'reserved').length, units: granted });
      // Whatever is left is smaller than every refused request, or 0.
      for (const [i, r] of results.entries()) {
        if (r.status === 'insufficient') expect(r.available).to.be.below(qtys[i] as number);
      }
      expect(left).to.be.below(3);
    });

    it('four processes with sold-out answers from memory (on by default), reserving and giving back at once: never oversold, no unit lost', async () => {
      const prefix = shared.prefix();
      const log = new EventLog();
      // A store and a connection each: four processes, each with its own memory.
      const stores = range(4).map(() => createStockStore({ redis: shared.client(), prefix, onEvent: log.onEvent }));
      const one = stores[0] as StockStore;
      const { stock } = stockKeys(prefix, 'hot');
      await one.setStock('hot', 100);
      const watcher = watchMinimum(() => shared.redis.get(stock));
      const random = (n: number) => Math.floor(Math.random() * n);
      let released = 0;
      let committed = 0;
      // Requests spread over 100 ms: the item sells out early, and each give-back lets some other buyer in.
      const buyer = async (store: StockStore) => {
        await sleep(random(100));
        const qty = 1 + random(3);
        const result = await store.reserve('hot', qty);
        if (result.status === 'insufficient') expect(result.available, 'refused only for more than there was').to.be.below(qty);
        if (result.status !== 'reserved') return;
        expect(result.remaining).to.be.at.least(0);
        await sleep(random(20));
        const release = random(2) === 0;
        const { changed } = await (release ? store.release(result.holdId) : store.commit(result.holdId));
        expect(changed).to.equal(true);
        if (release) released += qty;
        else committed += qty;
      };
      await Promise.all(stores.flatMap((store) => range(250).map(() => buyer(store))));
      const min = await watcher.stop();

      expect(min, 'the figure never went below 0').to.be.at.least(0);
      expect(committed, 'no oversell').to.be.at.most(100);
      expect(await one.getHolds('hot')).to.deep.include({ count: 0, units: 0 });
      expect(((await one.getStock('hot')) as number) + committed, 'no unit lost').to.equal(100);
      const soldOut = log.of('sold-out');
      for (const e of soldOut) expect(e.available).to.be.below(e.requested);
      expect(soldOut.filter((e) => e.cached).length, 'refusals from memory').to.be.above(0);
      expect(soldOut.filter((e) => !e.cached).length, 'refusals from Redis').to.be.above(0);
      expect(released, 'units given back').to.be.above(0);
    });
  });

  describe('initialisation: the loader runs exactly once', () => {
    it('300 concurrent reservations on three connections plus 300 from a second process', async () => {
      const prefix = shared.prefix();
      const key = 'cold-sku';
      const counterKey = `${prefix}loader-calls`;
      const STOCK = 450;
      const LOADER_DELAY_MS = 300;

      // The second process: connects, says "ready", waits for "go".
      const second = startFixture('core-reserver.ts', {
        REDIS_URL,
        PREFIX: prefix,
        KEY: key,
        COUNT: '300',
        COUNTER_KEY: counterKey,
        LOADER_STOCK: String(STOCK),
        LOADER_DELAY_MS: String(LOADER_DELAY_MS),
      });
      const { child } = second;
      try {
        await second.waitForOutput('ready\n', 'the second process to be ready');

        let localLoaderCalls = 0;
        const loader = async () => {
          localLoaderCalls++;
          await shared.redis.incr(counterKey);
          await sleep(LOADER_DELAY_MS);
          return STOCK;
        };
        const clients = [shared.client(), shared.client(), shared.client()];
        const stores: StockStore[] = clients.map((redis) => createStockStore({ redis, prefix }));
        await Promise.all(clients.map((c) => c.ping()));

        child.stdin.write('go\n');
        const settled = await Promise.allSettled(
          range(300).map((i) => (stores[i % 3] as StockStore).reserve(key, 1, loader)),
        );
        const code = await second.exited;
        expect(code, second.stderr).to.equal(0);

        const rejected = settled.filter((s) => s.status === 'rejected');
        expect(rejected.map((s) => String((s as PromiseRejectedResult).reason))).to.deep.equal([]);
        const local = tally(settled.map((s) => (s as PromiseFulfilledResult<ReserveResult>).value));
        const { stdout } = second;
        const remote = JSON.parse(stdout.slice(stdout.indexOf('ready\n') + 6).trim()) as {
          reserved: number;
          insufficient: number;
          unlimited: number;
          errors: string[];
        };
        expect(remote.errors).to.deep.equal([]);

        expect(await shared.redis.get(counterKey), 'loader calls across both processes').to.equal('1');
        expect(local.reserved + local.insufficient, 'in-process answers').to.equal(300);
        expect(remote.reserved + remote.insufficient, 'second-process answers').to.equal(300);
        expect(local.reserved + remote.reserved, 'successes').to.equal(STOCK);
        expect(local.insufficient + remote.insufficient, 'sold out').to.equal(600 - STOCK);
        expect(await stores[0]?.getStock(key), 'stock left').to.equal(0);
        expect(localLoaderCalls).to.be.at.most(1);
        expect(await shared.redis.exists(stockKeys(prefix, key).lock), 'lock left behind').to.equal(0);
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    });

    it('300 concurrent requests over HTTP on an uninitialised key: one loader call, units deducted == successes', async () => {
      const prefix = shared.prefix();
      const log = new EventLog();
      const store = createStockStore({ redis: shared.client(), prefix, onEvent: log.onEvent });
      let loaderCalls = 0;
      const app = express();
      app.use(express.json());
      app.post(
        '/order',
        reserveStock({
          store,
          key: (req) => req.body.sku,
          qty: (req) => req.body.qty,
          loader: async (key, req) => {
            loaderCalls++;
            expect(req.body.sku).to.equal(key);
            await sleep(100);
            return 500;
          },
        }),
        (req, res) => {
          res.status(201).json({ qty: (req.reservation as Reservation).qty });
        },
      );
      app.use(jsonErrors);
      const http = await listen(app);
      try {
        const qtys = range(300).map((i) => (i % 4) + 1); // 750 units asked, 500 there
        const responses = await Promise.all(
          qtys.map((qty) => request(http.url).post('/order').send({ sku: 'cold', qty })),
        );
        expect(loaderCalls).to.equal(1);
        expect(responses.every((r) => r.status === 201 || r.status === 409), JSON.stringify(responses.map((r) => r.status))).to
          .equal(true);
        const granted = responses.reduce((sum, r) => sum + (r.status === 201 ? (r.body.qty as number) : 0), 0);
        const left = (await store.getStock('cold')) as number;
        expect(granted + left).to.equal(500);
        expect(left).to.be.at.least(0);
        expect(log.of('initialised')).to.deep.equal([{ type: 'initialised', key: 'cold', stock: 500 }]);
      } finally {
        await http.close();
      }
    });
  });

  describe('initialisation lock', () => {
    it('a holder that died: callers wait, and one initialises after the lock expires', async () => {
      const prefix = shared.prefix();
      const { lock } = stockKeys(prefix, 'orphan');
      const store = createStockStore({ redis: shared.redis, prefix, loaderTimeoutMs: 1000, lockTtlMs: 3000 });
      const LOCK_TTL = 800;
      const lockedAt = Date.now();
      expect(await shared.redis.set(lock, 'dead-holder', 'PX', LOCK_TTL, 'NX')).to.equal('OK');

      const loaderCalledAt: number[] = [];
      const loader = () => {
        loaderCalledAt.push(Date.now());
        return 20;
      };
      const results = await Promise.all(range(10).map(() => store.reserve('orphan', 1, loader)));

      expect(tally(results)).to.deep.equal({ reserved: 10, insufficient: 0, unlimited: 0 });
      expect(loaderCalledAt).to.have.length(1);
      // Nobody loaded while the dead holder's lock stood, and the waiters
      // (polling at most 200 ms apart) took over soon after it expired.
      const loadedAfter = (loaderCalledAt[0] as number) - lockedAt;
      expect(loadedAfter, 'loader called before the dead lock expired').to.be.at.least(LOCK_TTL - 50);
      expect(loadedAfter, 'loader called long after the dead lock expired').to.be.below(LOCK_TTL + 1500);
      expect(await store.getStock('orphan')).to.equal(10);
      await waitFor(async () => (await shared.redis.exists(lock)) === 0, 'the new holder to free the lock');
    });

    it('a waiter gives up with 503 after initTimeoutMs and never deletes a lock it does not own', async () => {
      const prefix = shared.prefix();
      const { lock, stock } = stockKeys(prefix, 'stuck');
      const store = createStockStore({ redis: shared.redis, prefix, initTimeoutMs: 400 });
      await shared.redis.set(lock, 'someone-else', 'PX', 60_000);
      let loaderCalls = 0;
      // Each call timed on its own: every one must wait out initTimeoutMs
      // (an instant 503 would not be waiting for the lock at all), and none
      // much longer (a waiter must not hang on a lock that is not freed).
      const timed = async () => {
        const started = Date.now();
        const outcome = await store.reserve('stuck', 1, () => ++loaderCalls).then(
          (value) => ({ value }),
          (error: unknown) => ({ error }),
        );
        return { ...outcome, elapsed: Date.now() - started };
      };
      const settled = await Promise.all(range(5).map(timed));

      for (const [i, s] of settled.entries()) {
        expect(s, `call ${i}`).to.have.property('error').that.includes({ status: 503, code: 'ERR_RESERVE_STOCK_UNAVAILABLE' });
        expect(s.elapsed, `call ${i} gave up before initTimeoutMs`).to.be.at.least(400 - 20);
        expect(s.elapsed, `call ${i} gave up long after initTimeoutMs`).to.be.below(400 + 2000 + 1500);
      }
      expect(loaderCalls).to.equal(0);
      expect(await shared.redis.get(lock)).to.equal('someone-else');
      expect(await shared.redis.pttl(lock)).to.be.above(50_000);
      expect(await shared.redis.exists(stock)).to.equal(0);
    });

    it('a holder whose lock was taken over frees nothing on the way out (compare-and-delete)', async () => {
      const prefix = shared.prefix();
      const { lock } = stockKeys(prefix, 'taken-over');
      const store = createStockStore({ redis: shared.redis, prefix });
      const loader = async () => {
        // Our lock "expires" and another caller takes it while we load.
        expect(await shared.redis.get(lock)).to.be.a('string').with.length(32);
        await shared.redis.set(lock, 'new-owner', 'PX', 60_000);
        return 5;
      };
      const result = await store.reserve('taken-over', 2, loader);
      expect(withoutHold(result, 'taken-over')).to.deep.equal({ status: 'reserved', remaining: 3 });
      await sleep(200); // the lock release runs after the answer
      expect(await shared.redis.get(lock)).to.equal('new-owner');
    });

    it('the owner frees its own lock once the figure is written', async () => {
      const prefix = shared.prefix();
      const { lock } = stockKeys(prefix, 'own');
      const store = createStockStore({ redis: shared.redis, prefix });
      let tokenDuringLoad: string | null = null;
      const result = await store.reserve('own', 1, async () => {
        tokenDuringLoad = await shared.redis.get(lock);
        expect(await shared.redis.pttl(lock)).to.be.within(1, 5000);
        return 3;
      });
      expect(withoutHold(result, 'own')).to.deep.equal({ status: 'reserved', remaining: 2 });
      expect(tokenDuringLoad).to.match(/^[0-9a-f]{32}$/);
      await waitFor(async () => (await shared.redis.exists(lock)) === 0, 'the owner to free its lock');
    });
  });
});
