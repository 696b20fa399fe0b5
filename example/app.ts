import { join } from 'node:path';
import express, { type Express } from 'express';
import helmet from 'helmet';
import { createStockStore, type RedisClient, type StockEventHandler, type StockStore } from '../lib';
import { randomAdminToken, requireAdminForWrites } from './admin';
import { countAnswers, recordStock } from './dashboard/feed';
import { SaleTimeline } from './dashboard/timeline';
import type { Database } from './db';
import { jsonErrors, notFound } from './errors';
import { cartRoutes } from './routes/carts';
import { allOf } from './events';
import { createMetrics, type MetricsOptions } from './metrics';
import { dashboardRoutes } from './routes/dashboard';
import type { OrderStats } from './place-order';
import { orderRoutes } from './routes/orders';
import { productRoutes } from './routes/products';
import { timeReservations } from './timed-store';

/** Redis keys of the example's stock figures start with this unless told otherwise. */
export const DEFAULT_PREFIX = 'example:stock:';

/** The storefront, the dashboard and their scripts: plain files, no build step. */
const PUBLIC_DIR = join(__dirname, 'public');

export interface AppOptions {
  db: Database;
  redis: RedisClient;
  prefix?: string;
  onEvent?: StockEventHandler;
  /**
   * The bearer token of the routes that change stock. Left out, the app
   * makes a random one (returned), so those routes are never open.
   */
  adminToken?: string;
  metrics?: MetricsOptions;
}

/** The checkout app, not listening yet: the caller owns the server, Redis and the pool. */
export function createApp({ db, redis, prefix = DEFAULT_PREFIX, onEvent, adminToken = randomAdminToken(), metrics: metricsOptions }: AppOptions): {
  app: Express;
  store: StockStore;
  stats: OrderStats;
  adminToken: string;
} {
  const metrics = createMetrics(metricsOptions);
  const timeline = new SaleTimeline();
  const store = timeReservations(
    createStockStore({ redis, prefix, onEvent: allOf(metrics.onEvent, recordStock(timeline), onEvent) }),
    metrics.observeReservation,
  );
  const stats: OrderStats = { dbTransactions: 0 };
  const app = express();
  app.disable('x-powered-by');
  app.use(helmet());
  app.use(countAnswers(timeline));
  // Files only: no redirect of a directory's path (/products/.. would be one) to its slash.
  app.use(express.static(PUBLIC_DIR, { extensions: ['html'], redirect: false }));
  app.use('/products', requireAdminForWrites(adminToken));
  app.use(express.json());
  app.use(productRoutes(db, store));
  app.use(orderRoutes(db, store, stats));
  app.use(cartRoutes(db, store, stats));
  app.use(dashboardRoutes(store, timeline));
  app.get('/stats', (_req, res) => {
    res.json(stats);
  });
  app.get('/metrics', async (_req, res) => {
    res.set('Content-Type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.use(notFound);
  app.use(jsonErrors);
  return { app, store, stats, adminToken };
}
