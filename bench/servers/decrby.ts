/**
 * decrby: the design most shops write. `DECRBY` the Redis figure; when the
 * result is negative, `INCRBY` it back and answer 409 (a transient negative
 * turns buyers away while units remain); otherwise the checkout's database
 * transaction, with the units given back in Redis if it fails.
 */
import express from 'express';
import { Redis } from 'ioredis';
import { deleteKeys, isOrderBody, jsonErrors } from './common';
import { BenchDb } from './sql';
import type { Item, ServerFactory } from './types';

export const createServer: ServerFactory = async (config) => {
  const db = new BenchDb(config.mysqlUrl, config.poolMax);
  await db.open();
  const redis = new Redis(config.redisUrl);
  const keyOf = (sku: string) => `${config.prefix}${sku}`;

  async function order(sku: string, qty: number, payment: string): Promise<'sold' | 'sold-out'> {
    const key = keyOf(sku);
    const left = await redis.decrby(key, qty);
    if (left < 0) {
      await redis.incrby(key, qty);
      return 'sold-out';
    }
    let outcome: 'sold' | 'sold-out';
    try {
      outcome = await db.sellFromRow(sku, qty, payment);
    } catch (error) {
      await redis.incrby(key, qty);
      throw error;
    }
    if (outcome === 'sold-out') await redis.incrby(key, qty);
    return outcome;
  }

  const app = express();
  app.post('/orders', express.json(), (req, res, next) => {
    if (!isOrderBody(req.body)) {
      res.status(400).json({ error: 'bad order' });
      return;
    }
    const { sku, qty, payment } = req.body;
    order(sku, qty, payment).then((outcome) => {
      if (outcome === 'sold') res.status(201).json({ ok: true });
      else res.status(409).json({ error: 'sold out' });
    }, next);
  });
  app.use(jsonErrors);

  return {
    handler: app,
    dbTransactions: () => db.transactions,
    busy: () => db.busy(),
    async prepare(items: Item[]) {
      await db.createProducts(items);
      const pipeline = redis.pipeline();
      for (const { sku, stock } of items) pipeline.set(keyOf(sku), stock, 'EX', 3600);
      await pipeline.exec();
    },
    audit: (items: Item[]) => db.audit(items, 'products'),
    async cleanup(items: Item[]) {
      await db.cleanup(items);
      await deleteKeys(redis, config.prefix);
    },
    async close() {
      await redis.quit();
      await db.close();
    },
  };
};
