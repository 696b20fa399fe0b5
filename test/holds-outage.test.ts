/**
 * A commit or release that fails because Redis is briefly away is retried
 * in the background; the handler's word still decides. On a private
 * redis-server this file stops and starts itself (never the shared one).
 */
import { expect } from 'chai';
import Redis from 'ioredis';
import request from 'supertest';
import type { NextFunction, Request, Response } from 'express';
import { createStockStore, reserveStock, type Reservation, type SettleResult } from '../lib';
import { express, jsonErrors } from './helpers/app';
import { EventLog } from './helpers/events';
import { uniquePrefix } from './helpers/redis';
import { usePrivateRedis } from './helpers/private-redis';
import type { RedisServer } from './helpers/redis-server';
import { sleep, waitFor } from './helpers/wait';

describe('holds: a settle during a Redis blip (private redis-server)', function () {
  this.timeout(60_000);

  let server: RedisServer;
  let admin: Redis;
  const client = usePrivateRedis({}, (opened) => ({ server, admin } = opened));

  /** A store on a client that retries its connection every 100 ms. */
  function make() {
    const redis = client({ retryStrategy: () => 100 });
    const log = new EventLog();
    const store = createStockStore({ redis, prefix: uniquePrefix('blip'), timeoutMs: 500, onEvent: log.onEvent });
    return { redis, store, log };
  }

  /** Stops Redis (its data saved), runs `during`, starts it again and waits for `redis` to be back. */
  async function blip(redis: Redis, during: () => Promise<unknown>): Promise<void> {
    await admin.save();
    await server.stop();
    await waitFor(() => redis.status !== 'ready', 'the client to notice');
    await during();
    await server.start();
    await waitFor(() => redis.status === 'ready', 'the client to reconnect', 15_000);
  }

  it('release() refused during a blip, then a 2xx once Redis is back: the release stands, not the auto-commit', async () => {
    const { redis, store, log } = make();
    await store.setStock('sku', 10, 0);
    let asked: SettleResult | undefined;
    let reservation: Reservation | undefined;
    const app = express();
    app.post('/order', reserveStock({ store, key: 'sku', qty: 3 }), async (req: Request, res: Response) => {
      reservation = req.reservation as Reservation;
      // The shop gives the units back (the customer cancelled), but Redis is away for a moment.
      await blip(redis, async () => {
        asked = await reservation?.release();
      });
      res.status(200).json({ cancelled: true });
    });
    app.use(jsonErrors);
    expect((await request(app).post('/order')).status).to.equal(200);
    expect(asked).to.deep.equal({ state: 'held', changed: false });
    await waitFor(() => log.count('released') + log.count('committed') >= 1, 'the hold to be settled', 10_000);
    await sleep(1500); // the background retries run out
    expect(log.of('released'), 'the shop asked for a release').to.deep.equal([
      { type: 'released', key: 'sku', holdId: reservation?.holdId },
    ]);
    expect(log.count('committed')).to.equal(0);
    expect(await store.getStock('sku')).to.equal(10);
  });

  it('commit() refused during a blip, then the handler fails once Redis is back: the commit stands, not the rollback', async () => {
    const { redis, store, log } = make();
    await store.setStock('sku', 10, 0);
    let asked: SettleResult | undefined;
    let reservation: Reservation | undefined;
    const app = express();
    app.post('/order', reserveStock({ store, key: 'sku', qty: 3 }), async (req: Request, _res: Response, next: NextFunction) => {
      reservation = req.reservation as Reservation;
      // The order is in the database: the shop commits, but Redis is away for a moment.
      await blip(redis, async () => {
        asked = await reservation?.commit();
      });
      next(new Error('the confirmation mail failed after the order was stored'));
    });
    app.use(jsonErrors);
    expect((await request(app).post('/order')).status).to.equal(500);
    expect(asked).to.deep.equal({ state: 'held', changed: false });
    await waitFor(() => log.count('released') + log.count('committed') >= 1, 'the hold to be settled', 10_000);
    await sleep(1500);
    expect(log.of('committed'), 'the shop committed: the units stay sold').to.deep.equal([
      { type: 'committed', key: 'sku', holdId: reservation?.holdId },
    ]);
    expect(log.count('released')).to.equal(0);
    expect(await store.getStock('sku')).to.equal(7);
  });

  it('release() refused during a blip is retried once Redis is back: the units come back once', async () => {
    const { redis, store, log } = make();
    await store.setStock('sku', 10, 0);
    let reservation: Reservation | undefined;
    const app = express();
    app.post('/order', reserveStock({ store, key: 'sku', qty: 3 }), async (req: Request, res: Response) => {
      reservation = req.reservation as Reservation;
      await blip(redis, async () => {
        await reservation?.release();
        res.status(500).json({ failed: true });
      });
    });
    app.use(jsonErrors);
    expect((await request(app).post('/order')).status).to.equal(500);
    await waitFor(() => log.count('released') === 1, 'the retried release', 10_000);
    await sleep(1500);
    expect(log.of('released')).to.deep.equal([{ type: 'released', key: 'sku', holdId: reservation?.holdId }]);
    expect(log.count('committed')).to.equal(0);
    expect(await store.getStock('sku')).to.equal(10);
    expect(await store.getHolds('sku')).to.deep.include({ count: 0, units: 0 });
  });
});
