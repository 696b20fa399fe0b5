/**
 * checkout: the example app itself (example/app.ts), `POST /orders` with the
 * gate in front of its database transaction. Products are created through
 * its own `POST /products` and their Redis figures loaded before the run;
 * database transactions are its own counter (`stats.dbTransactions`).
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { createApp } from '../../example/app';
import { createDatabase } from '../../example/db/database';
import { deleteKeys } from './common';
import { countCommands } from './count-commands';
import { BenchDb } from './sql';
import type { Item, ServerFactory } from './types';

export const createServer: ServerFactory = async (config) => {
  const db = createDatabase(config.mysqlUrl, { pool: { max: config.poolMax } });
  const bench = new BenchDb(config.mysqlUrl, config.poolMax, db);
  await bench.open();
  const redis = new Redis(config.redisUrl);
  const redisCommands = countCommands(redis);
  const { app, store, stats, adminToken } = createApp({ db, redis, prefix: config.prefix });

  return {
    handler: app,
    dbTransactions: () => stats.dbTransactions,
    redisCommands,
    busy: () => bench.busy(),
    async prepare(items: Item[]) {
      const server = app.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const { port } = server.address() as AddressInfo;
      try {
        const queue = [...items];
        const worker = async () => {
          for (let item = queue.shift(); item; item = queue.shift()) {
            const res = await fetch(`http://127.0.0.1:${port}/products`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
              body: JSON.stringify({ sku: item.sku, name: `bench ${item.sku}`, stock: item.stock }),
            });
            if (res.status !== 201) throw new Error(`POST /products ${item.sku}: ${res.status} ${await res.text()}`);
            // Load the Redis figure now, as the gate and decrby contenders
            // do: the runs measure the shop warm, not its first look-ups.
            await store.setStock(item.sku, item.stock);
          }
        };
        await Promise.all(Array.from({ length: 8 }, worker));
      } finally {
        server.closeAllConnections();
        server.close();
      }
    },
    audit: (items: Item[]) => bench.audit(items, 'products'),
    async cleanup(items: Item[]) {
      await bench.cleanup(items);
      await deleteKeys(redis, config.prefix);
    },
    async close() {
      await redis.quit();
      await db.sequelize.close();
    },
  };
};
