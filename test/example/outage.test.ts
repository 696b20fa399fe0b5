import { expect } from 'chai';
import { createServer, type AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import request from 'supertest';
import { createApp } from '../../example/app';
import { createDatabase, type Database } from '../../example/db/database';
import { expectError } from './expect-error';
import { useShop, type Shop } from './shop';

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// Real clients aimed at a port where nothing answers: no server is stopped
// (the shared Redis and MariaDB stay up for everyone else).
describe('example app: Redis or the database unreachable', () => {
  let shop: Shop;
  useShop((opened) => (shop = opened));
  let deadRedis: Redis;
  let deadDb: Database;
  before(async () => {
    const port = await closedPort();
    deadRedis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    deadRedis.on('error', () => undefined); // expected: nothing listens
    deadDb = createDatabase(`mysql://root@127.0.0.1:${port}/test`, { pool: { max: 1 } });
  });
  after(async () => {
    deadRedis.disconnect();
    await deadDb.sequelize.close();
  });

  it('Redis down: POST /orders answers 503 as JSON and starts no transaction', async () => {
    const sku = shop.sku('redis-down');
    await shop.db.Product.create({ sku, name: 'n', stock: 5 });
    const { app, stats } = createApp({ db: shop.db, redis: deadRedis, prefix: shop.prefix });
    expectError(await request(app).post('/orders').send({ sku, qty: 1 }), 503);
    expectError(await request(app).get(`/products/${sku}`), 503);
    expect(stats.dbTransactions).to.equal(0);
    expect((await shop.db.Product.findOne({ where: { sku } }))?.stock).to.equal(5);
  });

  it('database down: the loader fails, POST /orders answers 503 as JSON, nothing is written to Redis', async () => {
    const sku = shop.sku('db-down');
    const { app, stats, store } = createApp({ db: deadDb, redis: shop.redis, prefix: shop.prefix });
    expectError(await request(app).post('/orders').send({ sku, qty: 1 }), 503);
    expect(stats.dbTransactions).to.equal(0);
    expect(await store.getStock(sku)).to.equal(null);
  });
});
