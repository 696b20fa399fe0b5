/**
 * decrby: the design most shops write. `DECRBY` the Redis figure; when the
 * result is negative, `INCRBY` it back and answer 409 (a transient negative
 * turns buyers away while units remain); otherwise the checkout's database
 * transaction, with the units given back in Redis if it fails.
 */
import { Redis } from 'ioredis';
import { deleteKeys } from './common';
import { countCommands } from './count-commands';
import { orderApp, type SaleOutcome } from './order-route';
import { BenchDb } from './sql';
import type { Item, ServerFactory } from './types';

export const createServer: ServerFactory = async (config) => {
  const db = new BenchDb(config.mysqlUrl, config.poolMax);
  await db.open();
  const redis = new Redis(config.redisUrl);
  const redisCommands = countCommands(redis);
  const keyOf = (sku: string) => `${config.prefix}${sku}`;
  // Buyers answered 409 although the figure, once their units were put
  // back, still held enough: turned away by another buyer's transient negative.
  const turnedAwayWithStock = new Map<string, number>();

  async function order(sku: string, qty: number, payment: string): Promise<SaleOutcome> {
    const key = keyOf(sku);
    const left = await redis.decrby(key, qty);
    if (left < 0) {
      if ((await redis.incrby(key, qty)) >= qty) turnedAwayWithStock.set(sku, (turnedAwayWithStock.get(sku) ?? 0) + 1);
      return 'sold-out';
    }
    let outcome: SaleOutcome;
    try {
      outcome = await db.sellFromRow(sku, qty, payment);
    } catch (error) {
      await redis.incrby(key, qty);
      throw error;
    }
    if (outcome === 'sold-out') await redis.incrby(key, qty);
    return outcome;
  }

  return {
    handler: orderApp(order),
    dbTransactions: () => db.transactions,
    redisCommands,
    busy: () => db.busy(),
    async prepare(items: Item[]) {
      await db.createProducts(items);
      const pipeline = redis.pipeline();
      for (const { sku, stock } of items) pipeline.set(keyOf(sku), stock, 'EX', 3600);
      await pipeline.exec();
    },
    async audit(items: Item[]) {
      const audit = await db.audit(items, 'products');
      const turnedAway = items.reduce((n, { sku }) => n + (turnedAwayWithStock.get(sku) ?? 0), 0);
      if (turnedAway > 0) audit.notes.push(`${turnedAway} buyer(s) turned away while units remained (transient negatives)`);
      return audit;
    },
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
