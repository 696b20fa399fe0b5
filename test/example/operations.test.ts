/**
 * The example's operations: the health probes (Redis stopped on a private
 * redis-server, the database pointed at a port where nothing listens), the
 * log of Redis's connection state, and the request log.
 */
import { expect } from 'chai';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import request from 'supertest';
import { createApp } from '../../example/app';
import { createDatabase, type Database } from '../../example/db/database';
import { READY_TIMEOUT_MS } from '../../example/ops/health';
import { logRedisState } from '../../example/redis';
import { memoryLogger } from '../helpers/log';
import { freePort, type RedisServer } from '../helpers/redis-server';
import { usePrivateRedis } from '../helpers/private-redis';
import { waitFor } from '../helpers/wait';
import { useShop, type Shop } from './shop';

/** A readiness probe must answer within its checks' deadline, and a little: a hang fails it. */
const PROBE_DEADLINE_MS = READY_TIMEOUT_MS * 4;

describe('example operations', function () {
  this.timeout(30_000);
  let shop: Shop;
  useShop((opened) => (shop = opened));
  let server: RedisServer;
  const client = usePrivateRedis({}, (opened) => ({ server } = opened));
  let deadDb: Database;
  before(async () => {
    deadDb = createDatabase(`mysql://root@127.0.0.1:${await freePort()}/test`, { pool: { max: 1 } });
  });
  after(async () => {
    await deadDb.sequelize.close();
  });

  /** The app on the private Redis (which a test may stop) and `db`. */
  function appOn(db: Database, redis: Redis = client({ maxRetriesPerRequest: 1, retryStrategy: () => 100 })) {
    return createApp({ db, redis, prefix: shop.prefix }).app;
  }

  const probe = (app: ReturnType<typeof appOn>, path: string) => request(app).get(path).timeout(PROBE_DEADLINE_MS);

  /** A 503 of /readyz: the error shape, with `down` naming what did not answer. */
  function expectNotReady(res: request.Response, down: string[]): void {
    expect(res.status).to.equal(503);
    expect(res.type).to.equal('application/json');
    expect(res.headers['cache-control']).to.equal('no-store');
    expect(res.body).to.have.all.keys('error');
    expect(res.body.error).to.have.all.keys('status', 'message', 'down');
    expect(res.body.error.status).to.equal(503);
    expect(res.body.error.down).to.deep.equal(down);
    expect(res.body.error.message).to.match(new RegExp(`^Not ready: ${down.map((name) => `${name} \\(.+\\)`).join(', ')}$`));
  }

  describe('GET /healthz and GET /readyz', () => {
    it('both up: /healthz 200, /readyz 200 naming both', async () => {
      expect((await request(shop.url).get('/healthz').expect(200)).body).to.deep.equal({ status: 'ok' });
      const ready = await request(shop.url).get('/readyz').expect(200).expect('cache-control', 'no-store');
      expect(ready.body).to.deep.equal({ redis: 'up', database: 'up' });
    });

    it('Redis stopped: /readyz 503 naming redis, in bounded time; /healthz still 200; ready again once Redis is back', async () => {
      const app = appOn(shop.db);
      await probe(app, '/readyz').expect(200);
      await server.stop();
      expectNotReady(await probe(app, '/readyz'), ['redis']);
      await probe(app, '/healthz').expect(200);
      await server.start();
      await waitFor(async () => (await probe(app, '/readyz')).status === 200, '/readyz to answer 200 again', 10_000);
    });

    it('database unreachable: /readyz 503 naming database', async () => {
      expectNotReady(await probe(appOn(deadDb), '/readyz'), ['database']);
    });

    it('both down: /readyz 503 naming both, still in bounded time', async () => {
      const redis = client({ maxRetriesPerRequest: 1, retryStrategy: () => 100 });
      const app = appOn(deadDb, redis);
      await server.stop();
      expectNotReady(await probe(app, '/readyz'), ['redis', 'database']);
    });
  });

  describe("Redis's connection state in the log", () => {
    it('one line per change (ready, down, ready, closed), however many reconnection errors come in between', async () => {
      const { logger, lines } = memoryLogger();
      const redis = new Redis(server.url, { lazyConnect: true, retryStrategy: () => 50 });
      let errors = 0;
      const state = logRedisState(redis, logger, 'test');
      redis.on('error', () => errors++);
      await redis.connect();
      expect(state()).to.equal('ready');
      await server.stop();
      // Every 50 ms a reconnection attempt fails with an error event.
      await waitFor(() => errors >= 5, 'several failed reconnection attempts', 10_000);
      expect(state()).to.equal('down');
      await server.start();
      await waitFor(() => state() === 'ready', 'the client to reconnect', 10_000);
      await redis.quit();
      await once(redis, 'end');
      const states = lines().map((line) => [line.state, line.msg]);
      expect(states.map(([s]) => s)).to.deep.equal(['ready', 'down', 'ready', 'closed']);
      expect(String(states[1]?.[1])).to.match(/^Redis down: /);
    });
  });

  describe('the request log', () => {
    it('one line per request with method, path, status and time; credentials redacted; probes left out', async () => {
      const { logger, lines, text } = memoryLogger();
      const { app, adminToken } = createApp({ db: shop.db, redis: shop.redis, prefix: shop.prefix, logger });
      const sku = shop.sku('logged');
      await request(app).post('/products').set('Authorization', `Bearer ${adminToken}`).send({ sku, name: 'Logged', stock: 2 }).expect(201);
      await request(app).post('/orders').send({ sku, qty: 5 }).expect(409);
      await request(app).get('/healthz').expect(200);
      await request(app).get('/readyz').expect(200);
      const logged = lines().map((line) => ({
        msg: line.msg,
        method: (line.req as { method: string }).method,
        url: (line.req as { url: string }).url,
        status: (line.res as { statusCode: number }).statusCode,
        timed: typeof line.responseTime === 'number',
      }));
      expect(logged).to.deep.equal([
        { msg: 'POST /products 201', method: 'POST', url: '/products', status: 201, timed: true },
        { msg: 'POST /orders 409', method: 'POST', url: '/orders', status: 409, timed: true },
      ]);
      expect(text()).not.to.include(adminToken);
      expect(text()).to.include('[redacted]');
    });
  });
});
