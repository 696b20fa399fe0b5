/**
 * The app's wiring, in one place: the stock store and what listens to it,
 * then every middleware and route in the order a request meets them.
 */
import { join } from 'node:path';
import cookieParser from 'cookie-parser';
import express, { type Express } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { createStockStore, type RedisClient, type StockEventHandler, type StockStore, type StockStoreOptions } from '../lib';
import { randomAdminToken, requireAdminForWrites } from './admin';
import { checkoutRoutes } from './checkout';
import { DEFAULT_PREFIX } from './config';
import { identifyCustomer } from './customer';
import { countAnswers, recordStock } from './dashboard/feed';
import { dashboardRoutes } from './dashboard/routes';
import { SaleTimeline } from './dashboard/timeline';
import type { Database } from './db/database';
import { jsonErrors, notFound } from './errors';
import { healthRoutes } from './ops/health';
import { createMetrics, type MetricsOptions, type OrderStats } from './ops/metrics';
import { requestLog, silentLogger } from './ops/log';
import { timeReservations } from './ops/timed-store';
import { productRoutes } from './products';

/** The storefront, the dashboard and their scripts: plain files, no build step. */
const PUBLIC_DIR = join(__dirname, 'public');

export interface AppOptions {
  db: Database;
  redis: RedisClient;
  /** Where the store's Redis keys start. Default `example:stock:`. */
  prefix?: string;
  /** The store's settings beyond the defaults (holdSeconds, timeouts, waitReplicas). */
  store?: Omit<StockStoreOptions, 'redis' | 'prefix' | 'onEvent'>;
  /** Wraps the store every route uses: the chaos suite's failing loader, a test's planted store. */
  wrapStore?: (store: StockStore) => StockStore;
  onEvent?: StockEventHandler;
  /**
   * The bearer token of the routes that change stock (and of X-Customer-Id).
   * Left out, the app makes a random one (returned), so those routes are
   * never open.
   */
  adminToken?: string;
  /**
   * The secret that signs the customer cookie (example/customer.ts). Left
   * out, a random one: cookies then last as long as the process, and every
   * instance of a fleet needs the same one.
   */
  cookieSecret?: string;
  metrics?: MetricsOptions;
  /** Where the request log and the app's errors go. Default: nowhere (a test's app). */
  logger?: Logger;
}

/** One handler that hands each event to every given one, in order. */
function allOf(...handlers: (StockEventHandler | undefined)[]): StockEventHandler {
  const present = handlers.filter((handler): handler is StockEventHandler => handler !== undefined);
  return (event) => {
    for (const handler of present) handler(event);
  };
}

/** The checkout app, not listening yet: the caller owns the server, Redis and the pool. */
export function createApp(options: AppOptions): { app: Express; store: StockStore; stats: OrderStats; adminToken: string } {
  const { db, redis, prefix = DEFAULT_PREFIX, onEvent, adminToken = randomAdminToken(), logger = silentLogger } = options;
  const cookieSecret = options.cookieSecret ?? randomAdminToken();
  const metrics = createMetrics(options.metrics);
  const timeline = new SaleTimeline();
  const events = allOf(metrics.onEvent, recordStock(timeline), onEvent);
  const redisStore = createStockStore({ ...options.store, redis, prefix, onEvent: events });
  const timed = timeReservations(redisStore, metrics.observeReservation);
  const store = options.wrapStore ? options.wrapStore(timed) : timed;

  const app = express();
  app.disable('x-powered-by');
  app.use(requestLog(logger));
  app.use(helmet());
  app.use(healthRoutes(redis, db));
  app.use(cookieParser(cookieSecret));
  app.use(identifyCustomer(adminToken));
  app.use(countAnswers(timeline));
  // Files only: no redirect of a directory's path (/products/.. would be one) to its slash.
  app.use(express.static(PUBLIC_DIR, { extensions: ['html'], redirect: false }));
  app.use('/products', requireAdminForWrites(adminToken));
  app.use(express.json());
  app.use(productRoutes(db, store));
  app.use(checkoutRoutes(db, store, metrics.orders));
  app.use(dashboardRoutes(store, timeline));
  app.get('/stats', (_req, res) => {
    res.json(metrics.stats);
  });
  app.get('/metrics', async (_req, res) => {
    res.set('Content-Type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.use(notFound);
  app.use(jsonErrors(logger));
  return { app, store, stats: metrics.stats, adminToken };
}
