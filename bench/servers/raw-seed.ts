/**
 * raw-seed: the seed article's design by hand. The stock figure in Redis and
 * the article's one script that checks and deducts it (../seed-script.ts),
 * called through ioredis' defineCommand from the hand-written order route:
 * no hold, no commit, no idempotency, no middleware. What the gate is
 * measured against (gateOverRawSeed): the price of the library over the
 * article's script, HTTP included.
 */
import { Redis } from 'ioredis';
import { SEED_NOT_ENOUGH, SEED_NOT_INITIALISED, seedStockCommand } from '../seed-script';
import { orderApp } from './order-route';
import { redisStockServer } from './redis-stock';
import type { ServerFactory } from './types';

export const createServer: ServerFactory = async (config) => {
  const redis = new Redis(config.redisUrl);
  const seedStock = seedStockCommand(redis);
  const keyOf = (sku: string) => `${config.prefix}${sku}`;
  const figures = {
    async set(sku: string, stock: number) {
      await redis.set(keyOf(sku), stock, 'EX', 3600);
    },
    async left(sku: string) {
      const figure = await redis.get(keyOf(sku));
      return figure === null ? null : Number(figure);
    },
  };
  return redisStockServer(redis, config, figures, (countSold) =>
    orderApp(async (sku, qty) => {
      const answer = await seedStock(keyOf(sku), qty);
      if (answer === SEED_NOT_ENOUGH) return 'sold-out';
      // The article leaves loading a missing figure to its caller; the bench sets every figure before the run.
      if (answer === SEED_NOT_INITIALISED) throw new Error(`${sku}: no stock figure in Redis`);
      countSold(sku, qty);
      return 'sold';
    }),
  );
};
