import express, { type Express } from 'express';
import { createStockStore, type RedisClient, type StockEventHandler, type StockStore } from '../lib';
import type { Database } from './db';
import { jsonErrors, notFound } from './errors';
import { cartRoutes } from './routes/carts';
import { orderRoutes, type OrderStats } from './routes/orders';
import { productRoutes } from './routes/products';

/** Redis keys of the example's stock figures start with this unless told otherwise. */
export const DEFAULT_PREFIX = 'example:stock:';

export interface AppOptions {
  db: Database;
  redis: RedisClient;
  prefix?: string;
  onEvent?: StockEventHandler;
}

/** The checkout app, not listening yet: the caller owns the server, Redis and the pool. */
export function createApp({ db, redis, prefix = DEFAULT_PREFIX, onEvent }: AppOptions): {
  app: Express;
  store: StockStore;
  stats: OrderStats;
} {
  const store = createStockStore({ redis, prefix, onEvent });
  const stats: OrderStats = { dbTransactions: 0 };
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json());
  app.use(productRoutes(db, store));
  app.use(orderRoutes(db, store, stats));
  app.use(cartRoutes(db, store, stats));
  app.get('/stats', (_req, res) => {
    res.json(stats);
  });
  app.use(notFound);
  app.use(jsonErrors);
  return { app, store, stats };
}
