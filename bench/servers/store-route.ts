/**
 * store-route: the store without the middleware. `store.reserve()` then
 * `store.commit()` in the hand-written order route, 409 when the reservation
 * finds too little: the hold scripts' cost over the article's script
 * (raw-seed), apart from what `reserveStock` adds around them (gate).
 */
import { Redis } from 'ioredis';
import { createStockStore } from '../../lib';
import { orderApp } from './order-route';
import { redisStockServer, storeFigures } from './redis-stock';
import type { ServerFactory } from './types';

export const createServer: ServerFactory = async (config) => {
  const redis = new Redis(config.redisUrl);
  const store = createStockStore({ redis, prefix: config.prefix });
  const figures = storeFigures(store);
  return redisStockServer(redis, config, figures, (countSold) =>
    orderApp(async (sku, qty) => {
      const reservation = await store.reserve(sku, qty, figures.loader);
      if (reservation.status === 'insufficient') return 'sold-out';
      // No per-customer limit is set, so a reservation that is not insufficient holds units.
      if (reservation.status === 'limit') throw new Error(`${sku}: refused for a limit none was set`);
      const { state } = await store.commit(reservation.holdId);
      if (state !== 'committed') throw new Error(`${sku}: hold ${reservation.holdId} ${state} instead of committed`);
      countSold(sku, qty);
      return 'sold';
    }),
  );
};
