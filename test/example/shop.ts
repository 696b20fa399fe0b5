/**
 * A private instance of the example shop for one test file: its own Redis
 * key prefix, its own skus, all removed again by `close()`. It runs against
 * the real MariaDB and Redis of DATABASE_URL and REDIS_URL (or the cluster
 * of REDIS_CLUSTER_NODES, see ../helpers/redis.ts).
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { stockKeys, type StockEvent, type StockStore } from '../../lib';
import { randomAdminToken } from '../../example/admin';
import { createApp } from '../../example/app';
import { CUSTOMER_HEADER } from '../../example/customer';
import { readConfig } from '../../example/config';
import { createDatabase, prepareDatabase, type Database } from '../../example/db/database';
import type { OrderStats } from '../../example/ops/metrics';
import { connectRedis, deleteWithPrefix, type AnyRedis } from '../helpers/redis';

export interface Shop {
  url: string;
  db: Database;
  redis: AnyRedis;
  store: StockStore;
  stats: OrderStats;
  prefix: string;
  events: StockEvent[];
  /** The admin routes' token: ADMIN_TOKEN, or a random one. */
  adminToken: string;
  /** A fresh sku, removed with its orders and Redis key on close. */
  sku(label?: string): string;
  close(): Promise<void>;
}

const suffix = () => randomBytes(4).toString('hex');

export async function openShop(): Promise<Shop> {
  const { databaseUrl } = readConfig();
  const db = createDatabase(databaseUrl, { pool: { max: 10 } });
  await prepareDatabase(db);
  const redis = connectRedis();
  const prefix = `test:example:${suffix()}:`;
  const events: StockEvent[] = [];
  const adminToken = process.env.ADMIN_TOKEN || randomAdminToken();
  const { app, store, stats } = createApp({ db, redis, prefix, adminToken, onEvent: (event) => events.push(event) });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', 1024, (error?: Error) => (error ? reject(error) : resolve(s)));
  });
  const skus: string[] = [];
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    db,
    redis,
    store,
    stats,
    prefix,
    events,
    adminToken,
    sku(label = 'item') {
      const sku = `t-${label}-${suffix()}`;
      skus.push(sku);
      return sku;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.Order.destroy({ where: { sku: skus } });
      await db.Product.destroy({ where: { sku: skus } });
      await deleteWithPrefix(redis, prefix);
      await redis.quit();
      await db.sequelize.close();
    },
  };
}

/**
 * Mocha wiring for a suite on one private shop: opened before the suite
 * (handed to `opened`), closed after it.
 *
 * @example
 * let shop: Shop;
 * useShop((opened) => (shop = opened));
 */
export function useShop(opened: (shop: Shop) => void): void {
  let shop: Shop | undefined;
  before(async () => {
    shop = await openShop();
    opened(shop);
  });
  after(async () => {
    await shop?.close();
    shop = undefined;
  });
}

/** A POST to one of the admin routes, with the shop's token. */
export function adminPost(shop: Shop, path: string): request.Test {
  return request(shop.url).post(path).set('Authorization', `Bearer ${shop.adminToken}`);
}

/** Creates a product through the API. */
export async function addProduct(shop: Shop, stock: number, label?: string): Promise<string> {
  const sku = shop.sku(label);
  await adminPost(shop, '/products').send({ sku, name: `Test ${sku}`, stock }).expect(201);
  return sku;
}

export function order(shop: Shop, sku: string, qty = 1, payment = 'card'): request.Test {
  return request(shop.url).post('/orders').send({ sku, qty, payment });
}

/** `test` as the customer `id`: named by X-Customer-Id with the admin token, as a load tool names its buyers. */
export function asCustomer(shop: Shop, id: string, test: request.Test): request.Test {
  return test.set('Authorization', `Bearer ${shop.adminToken}`).set(CUSTOMER_HEADER, id);
}

/** The figures of one product where they live. */
export async function figures(shop: Shop, sku: string): Promise<{ dbStock: number; redis: number | null; unitsOrdered: number; orders: number }> {
  const product = await shop.db.Product.findOne({ where: { sku } });
  const unitsOrdered = ((await shop.db.Order.sum('qty', { where: { sku } })) as number | null) ?? 0;
  return {
    dbStock: product ? product.stock : NaN,
    redis: await shop.store.getStock(sku),
    unitsOrdered,
    orders: await shop.db.Order.count({ where: { sku } }),
  };
}

/** The raw Redis key of a sku's figure, to delete it behind the app's back. */
export function stockKey(shop: Shop, sku: string): string {
  return stockKeys(shop.prefix, sku).stock;
}

/** Runs `tasks` with at most `limit` at a time; results in order. */
export async function inParallel<T>(count: number, limit: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      results[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  return results;
}
