/**
 * Automatic rollback: every way a handler can fail gives the units back
 * exactly once; every way it can succeed (or commit) keeps them.
 */
import { request as httpRequest } from 'node:http';
import { expect } from 'chai';
import createError from 'http-errors';
import request from 'supertest';
import type { NextFunction, Request, Response } from 'express';
import { createStockStore, reserveStock, type Reservation, type ReserveStockOptions, type StockStore } from '../lib';
import { express, jsonErrors, listen } from './helpers/app';
import { EventLog } from './helpers/events';
import { expectExpiry, expectHoldId } from './helpers/holds';
import { useSharedRedis } from './helpers/redis';
import { sleep, waitFor } from './helpers/wait';

const shared = useSharedRedis('core-rb');

const STOCK = 10;
const QTY = 3;
/** Long enough for a give-back that should not happen to have happened. */
const SETTLE_MS = 250;

type Handler = (req: Request, res: Response, next: NextFunction) => unknown;

interface Shop {
  url: string;
  store: StockStore;
  log: EventLog;
  /** The reservation of the last request, as the handler saw it. */
  reservation(): Reservation;
  close(): Promise<void>;
}

const open: Shop[] = [];

async function shop(handler: Handler, options: Partial<ReserveStockOptions> = {}, stock = STOCK): Promise<Shop> {
  const log = new EventLog();
  const store = createStockStore({ redis: shared.redis, prefix: shared.prefix(), onEvent: log.onEvent });
  await store.setStock('item', stock);
  let last: Reservation | undefined;
  const app = express();
  app.post(
    '/order',
    reserveStock({ store, key: 'item', qty: QTY, ...options }),
    (req, _res, next) => {
      last = req.reservation as Reservation;
      next();
    },
    handler,
  );
  app.use(jsonErrors);
  const http = await listen(app);
  const s: Shop = {
    url: http.url,
    store,
    log,
    reservation() {
      if (!last) throw new Error('the handler never ran');
      return last;
    },
    close: http.close,
  };
  open.push(s);
  return s;
}

afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

/** The request's one hold, released once: its units back, nothing committed, no hold left open. */
async function expectReleasedOnce(s: Shop): Promise<void> {
  await waitFor(() => s.log.count('released') >= 1, 'the units to be given back');
  await sleep(SETTLE_MS);
  const { holdId } = s.reservation();
  expectHoldId(holdId, 'item');
  expect(s.log.of('reserved')).to.deep.equal([{ type: 'reserved', key: 'item', qty: QTY, remaining: STOCK - QTY, holdId }]);
  expect(s.log.of('released')).to.deep.equal([{ type: 'released', key: 'item', holdId }]);
  expect(s.log.count('committed')).to.equal(0);
  expect(await s.store.getStock('item')).to.equal(STOCK);
  expect(await s.store.getHolds('item')).to.deep.equal({ key: 'item', count: 0, units: 0, inDoubt: 0, holds: [] });
  expect(s.reservation().state).to.equal('released');
  expect(await s.store.release(holdId)).to.deep.equal({ state: 'released', changed: false });
}

/** The request's one hold, committed once: its units kept for good, nothing given back, no hold left open. */
async function expectKept(s: Shop): Promise<void> {
  await waitFor(() => s.log.count('committed') >= 1, 'the hold to be committed');
  await sleep(SETTLE_MS);
  const { holdId } = s.reservation();
  expectHoldId(holdId, 'item');
  expect(s.log.count('released')).to.equal(0);
  expect(s.log.of('committed')).to.deep.equal([{ type: 'committed', key: 'item', holdId }]);
  expect(await s.store.getStock('item')).to.equal(STOCK - QTY);
  expect(await s.store.getHolds('item')).to.deep.equal({ key: 'item', count: 0, units: 0, inDoubt: 0, holds: [] });
  expect(s.reservation().state).to.equal('committed');
  expect(await s.store.commit(holdId)).to.deep.equal({ state: 'committed', changed: false });
}

describe('core: rollback, exactly once', () => {
  describe('the units go back', () => {
    it('when the handler throws synchronously', async () => {
      const s = await shop(() => {
        throw new Error('boom');
      });
      const res = await request(s.url).post('/order');
      expect(res.status).to.equal(500);
      await expectReleasedOnce(s);
    });

    it("when the handler's async function rejects", async () => {
      const s = await shop(async () => {
        await sleep(10);
        throw new Error('payment failed');
      });
      const res = await request(s.url).post('/order');
      expect(res.status).to.equal(500);
      await expectReleasedOnce(s);
    });

    it('when the handler calls next(err)', async () => {
      const s = await shop((_req, _res, next) => next(createError(402, 'card declined')));
      const res = await request(s.url).post('/order');
      expect(res.status).to.equal(402);
      await expectReleasedOnce(s);
    });

    for (const status of [400, 422, 500, 503]) {
      it(`when the handler answers ${status} itself`, async () => {
        const s = await shop((_req, res) => res.status(status).json({ failed: true }));
        const res = await request(s.url).post('/order');
        expect(res.status).to.equal(status);
        await expectReleasedOnce(s);
      });
    }

    it('when the handler writes the head and streams a 500 body by hand', async () => {
      const s = await shop((_req, res) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.write('part one, ');
        res.end('part two');
      });
      const res = await request(s.url).post('/order');
      expect(res.status).to.equal(500);
      expect(res.text).to.equal('part one, part two');
      await expectReleasedOnce(s);
    });

    it('when the handler calls next() and nothing else answers (Express 404)', async () => {
      const s = await shop((_req, _res, next) => next());
      const res = await request(s.url).post('/order');
      expect(res.status).to.equal(404);
      await expectReleasedOnce(s);
    });

    it('once when the handler calls release() and then errors', async () => {
      const s = await shop(async (req) => {
        await req.reservation?.release();
        expect(req.reservation?.state).to.equal('released');
        throw new Error('after release');
      });
      const res = await request(s.url).post('/order');
      expect(res.status).to.equal(500);
      await expectReleasedOnce(s);
    });

    it('once when release() is called twice, concurrently and again, then the handler answers 500', async () => {
      const s = await shop(async (req, res) => {
        const r = req.reservation as Reservation;
        await Promise.all([r.release(), r.release()]);
        await r.release();
        await r.commit(); // too late: already released
        res.status(500).end();
      });
      const res = await request(s.url).post('/order');
      expect(res.status).to.equal(500);
      await expectReleasedOnce(s);
    });

    it('once when release() is called and the handler then answers 200', async () => {
      const s = await shop(async (req, res) => {
        await req.reservation?.release();
        res.status(200).json({ cancelled: true });
      });
      const res = await request(s.url).post('/order');
      expect(res.status).to.equal(200);
      await expectReleasedOnce(s);
    });

    it('with a custom releaseWhen: a 202 counts as failed when it says so, and it gets (status, req, res)', async () => {
      const seen: unknown[] = [];
      const s = await shop((_req, res) => res.status(202).json({ queued: true }), {
        releaseWhen: (status, req, res) => {
          seen.push([status, typeof req.get, typeof res.getHeader]);
          return status !== 201;
        },
      });
      const res = await request(s.url).post('/order');
      expect(res.status).to.equal(202);
      await expectReleasedOnce(s);
      expect(seen).to.deep.equal([[202, 'function', 'function']]);
    });

    it('when the client disconnects and the handler then answers 500', async () => {
      const outcome = await disconnectThenAnswer(500);
      expect(outcome.status).to.equal(500);
      await expectReleasedOnce(outcome.shop);
    });
  });

  describe('the units are kept (the hold is committed)', () => {
    it('on a 2xx without commit', async () => {
      const s = await shop((_req, res) => res.status(201).json({ ordered: true }));
      const res = await request(s.url).post('/order');
      expect(res.status).to.equal(201);
      await expectKept(s);
    });

    it('on a 3xx redirect', async () => {
      const s = await shop((_req, res) => res.redirect(303, '/orders/1'));
      const res = await request(s.url).post('/order').redirects(0);
      expect(res.status).to.equal(303);
      await expectKept(s);
    });

    it('when the handler commits and then errors', async () => {
      const s = await shop(async (req) => {
        await req.reservation?.commit();
        throw new Error('mail server down after the order was stored');
      });
      const res = await request(s.url).post('/order');
      expect(res.status).to.equal(500);
      await expectKept(s);
    });

    it('when the handler commits and then calls release()', async () => {
      const s = await shop(async (req, res) => {
        await req.reservation?.commit();
        await req.reservation?.release();
        res.status(500).end();
      });
      const res = await request(s.url).post('/order');
      expect(res.status).to.equal(500);
      await expectKept(s);
    });

    it('when a custom releaseWhen says a 500 is not a failure', async () => {
      const s = await shop((_req, res) => res.status(500).end(), { releaseWhen: () => false });
      const res = await request(s.url).post('/order');
      expect(res.status).to.equal(500);
      await expectKept(s);
    });

    it('when the client disconnects while the handler goes on to answer 201', async () => {
      const outcome = await disconnectThenAnswer(201);
      expect(outcome.status).to.equal(201);
      await expectKept(outcome.shop);
    });
  });

  describe('unlimited stock (-1)', () => {
    it('passes with remaining -1 under a hold of 0 units: release() settles it once and gives nothing back', async () => {
      const s = await shop(
        async (req, res) => {
          expect(req.reservation).to.include({ key: 'item', qty: QTY, remaining: -1, state: 'held' });
          expect(await s.store.getHolds('item')).to.deep.include({ count: 1, units: 0 });
          await req.reservation?.release();
          res.status(500).end();
        },
        {},
        -1,
      );
      const res = await request(s.url).post('/order');
      expect(res.status).to.equal(500);
      await waitFor(() => s.log.count('released') >= 1, 'the hold to be released');
      await sleep(SETTLE_MS);
      const { holdId } = s.reservation();
      expectHoldId(holdId, 'item');
      expect(s.log.of('released')).to.deep.equal([{ type: 'released', key: 'item', holdId }]);
      expect(s.log.count('committed')).to.equal(0);
      expect(s.reservation().state).to.equal('released');
      expect(await s.store.getStock('item')).to.equal(-1);
      expect(await s.store.getHolds('item')).to.deep.equal({ key: 'item', count: 0, units: 0, inDoubt: 0, holds: [] });
      expect(s.log.of('reserved')).to.deep.equal([{ type: 'reserved', key: 'item', qty: QTY, remaining: -1, holdId }]);
    });
  });

  it('req.reservation holds the key, qty, remaining and state', async () => {
    const s = await shop((req, res) => {
      const r = req.reservation as Reservation;
      res.status(201).json({ key: r.key, qty: r.qty, remaining: r.remaining, state: r.state });
    });
    const res = await request(s.url).post('/order');
    expect(res.body).to.deep.equal({ key: 'item', qty: QTY, remaining: STOCK - QTY, state: 'held' });
    await expectKept(s);
  });

  it('req.reservation holds the hold id and its expiry (holdSeconds ahead), the hold open while the handler runs', async () => {
    let during: unknown;
    const s = await shop(
      async (req, res) => {
        const r = req.reservation as Reservation;
        during = await s.store.getHolds('item');
        res.status(201).json({ holdId: r.holdId, expiresAt: r.expiresAt });
      },
      { holdSeconds: 120 },
    );
    const res = await request(s.url).post('/order');
    const { holdId, expiresAt } = s.reservation();
    expectHoldId(holdId, 'item');
    expectExpiry(expiresAt, 120);
    expect(res.body).to.deep.equal({ holdId, expiresAt });
    expect(during).to.deep.equal({ key: 'item', count: 1, units: QTY, inDoubt: 0, holds: [{ holdId, qty: QTY, expiresAt, state: 'held' }] });
    await expectKept(s);
  });
});

/**
 * The client sends the order and hangs up while the handler is still at
 * work; the handler then answers `status` to nobody.
 */
async function disconnectThenAnswer(status: number): Promise<{ shop: Shop; status: number }> {
  let started!: () => void;
  const handlerStarted = new Promise<void>((resolve) => (started = resolve));
  let finished!: (status: number) => void;
  const handlerFinished = new Promise<number>((resolve) => (finished = resolve));

  const s = await shop(async (_req, res) => {
    const clientGone = new Promise((resolve) => res.once('close', resolve));
    started();
    await clientGone;
    await sleep(50);
    expect(res.writableEnded).to.equal(false);
    res.status(status).json({ answeredAfterDisconnect: true });
    finished(res.statusCode);
  });

  const clientReq = httpRequest(`${s.url}/order`, { method: 'POST' });
  const clientError = new Promise<Error>((resolve) => clientReq.once('error', resolve));
  clientReq.end();
  await handlerStarted;
  clientReq.destroy();
  await clientError;
  return { shop: s, status: await handlerFinished };
}
