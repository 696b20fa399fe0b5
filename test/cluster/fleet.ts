/**
 * Example shop processes on a Redis Cluster, sharing one database: the app
 * as it would be deployed behind a load balancer. Each worker
 * (test/chaos/worker.ts) holds units for HOLD_SECONDS: long enough for a
 * commit that met a failover to land on its third try (5.25 s after the
 * first), short enough that a hold whose commit died with a master gives its
 * units back within the test. The fleet's skus, rows and keys are removed by
 * close().
 */
import { randomBytes } from 'node:crypto';
import { Op } from 'sequelize';
import { createStockStore, stockKeys, type StockStore } from '../../lib';
import { createDatabase, prepareDatabase, type Database } from '../../example/db/database';
import { readConfig } from '../../example/config';
import { deleteWithPrefix } from '../helpers/redis';
import type { RedisCluster } from '../helpers/redis-cluster';
import type { RedisServer } from '../helpers/redis-server';
import { startWorker, stopWorker, type Worker } from '../helpers/shop-workers';

export const HOLD_SECONDS = 8;

export interface Books {
  dbStock: number;
  unitsOrdered: number;
}

export interface Fleet {
  workers: Worker[];
  /** A store on the same keys as the workers', for reconcile and getHolds. */
  store: StockStore;
  db: Database;
  prefix: string;
  /** The url of worker `i % workers` (round-robin). */
  url(i: number): string;
  /** A new product in the database (Redis loads it on the first order). */
  addProduct(stock: number, label: string): Promise<string>;
  /** A new product whose slot a master that `wanted` accepts serves. */
  addProductOn(wanted: (master: RedisServer) => boolean, stock: number, label: string): Promise<string>;
  /** The Redis key of a sku's figure (its slot is the sku's). */
  stockKey(sku: string): string;
  books(sku: string): Promise<Books>;
  /** Order transactions that reached the database, over every worker. */
  dbTransactions(): Promise<number>;
  close(): Promise<void>;
}

/**
 * Starts `count` workers on `cluster` under a fresh prefix; their stores
 * WAIT for `waitReplicas` replicas, up to `waitTimeoutMs` (default the
 * store's; below the workers' timeoutMs, 1000).
 */
export async function openFleet(cluster: RedisCluster, count: number, { waitReplicas = 0, waitTimeoutMs = undefined as number | undefined } = {}): Promise<Fleet> {
  const { databaseUrl } = readConfig();
  const db = createDatabase(databaseUrl, { pool: { max: 5 } });
  await prepareDatabase(db);
  const suffix = randomBytes(4).toString('hex');
  const prefix = `test:fleet:${suffix}:`;
  const redis = cluster.client();
  const store = createStockStore({ redis, prefix, holdSeconds: HOLD_SECONDS });
  const skus: string[] = [];
  const workers: Worker[] = [];
  const env = {
    ...process.env,
    REDIS_CLUSTER_NODES: cluster.nodeList,
    DATABASE_URL: databaseUrl,
    CHAOS_PREFIX: prefix,
    CHAOS_HOLD_SECONDS: String(HOLD_SECONDS),
    CHAOS_LOADER_FLAG: '',
    CHAOS_WAIT_REPLICAS: String(waitReplicas),
    CHAOS_WAIT_TIMEOUT_MS: waitTimeoutMs === undefined ? '' : String(waitTimeoutMs),
  };
  const url = (i: number) => `http://127.0.0.1:${(workers[i % workers.length] as Worker).port}`;
  const fleet: Fleet = {
    workers,
    store,
    db,
    prefix,
    url,
    async addProduct(stock, label) {
      const sku = `t-${label}-${suffix}-${skus.length}`;
      skus.push(sku);
      await db.Product.create({ sku, name: `fleet ${label}`, stock });
      return sku;
    },
    async addProductOn(wanted, stock, label) {
      for (;;) {
        const sku = await fleet.addProduct(stock, label);
        if (wanted(await cluster.masterOfKey(fleet.stockKey(sku)))) return sku;
      }
    },
    stockKey: (sku) => stockKeys(prefix, sku).stock,
    async books(sku) {
      const product = await db.Product.findOne({ where: { sku }, attributes: ['stock'] });
      const unitsOrdered = ((await db.Order.sum('qty', { where: { sku } })) as number | null) ?? 0;
      return { dbStock: product ? product.stock : NaN, unitsOrdered };
    },
    async dbTransactions() {
      const counts = await Promise.all(
        workers.map(async (_, i) => ((await (await fetch(`${url(i)}/stats`)).json()) as { dbTransactions: number }).dbTransactions),
      );
      return counts.reduce((sum, n) => sum + n, 0);
    },
    async close() {
      await Promise.all(workers.map((w) => stopWorker(w).catch(() => undefined)));
      await db.Order.destroy({ where: { sku: { [Op.in]: skus } } });
      await db.Product.destroy({ where: { sku: { [Op.in]: skus } } });
      await deleteWithPrefix(redis, prefix);
      redis.disconnect();
      await db.sequelize.close();
    },
  };
  try {
    workers.push(...(await Promise.all(Array.from({ length: count }, () => startWorker(env)))));
  } catch (error) {
    await fleet.close();
    throw error;
  }
  return fleet;
}
