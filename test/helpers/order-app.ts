/**
 * A small order app behind reserveStock, on the shared Redis, for the
 * idempotency suites: POST /orders and POST /gifts ({ sku, qty, ... }); the
 * handler numbers the orders it places. Every app a test opens is closed
 * after it.
 */
import request from 'supertest';
import type { Request, Response } from 'express';
import { createStockStore, reserveStock, type Reservation, type ReserveStockOptions, type StockStore } from '../../lib';
import { express, jsonErrors, listen } from './app';
import { EventLog } from './events';
import { useSharedRedis } from './redis';

export type Handler = (req: Request, res: Response, order: number) => unknown;

export interface OrderApp {
  url: string;
  store: StockStore;
  log: EventLog;
  prefix: string;
  /** How many times the order handler ran. */
  runs(): number;
  reservations: Reservation[];
}

/** Answers 201 { order, holdId, remaining }. */
export const placed: Handler = (req, res, order) => {
  const r = req.reservation as Reservation;
  res.status(201).json({ order, holdId: r.holdId, remaining: r.remaining });
};

/** Mocha wiring: the shared Redis (`shared`), and `open` for an app torn down after each test. */
export function useOrderApps(label: string) {
  const shared = useSharedRedis(label);
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });

  /** Opens an app: `handler` behind reserveStock(options), with `stock` set first. */
  async function open(handler: Handler = placed, options: Partial<ReserveStockOptions> = {}, stock: Record<string, number> = { a: 10, b: 10 }): Promise<OrderApp> {
    const prefix = shared.prefix();
    const log = new EventLog();
    const store = createStockStore({ redis: shared.redis, prefix, onEvent: log.onEvent });
    for (const [sku, n] of Object.entries(stock)) await store.setStock(sku, n);
    let runs = 0;
    const reservations: Reservation[] = [];
    const app = express();
    app.use(express.json());
    const reserve = reserveStock({ store, key: (req) => req.body.sku, qty: (req) => req.body.qty, ...options });
    const handle = async (req: Request, res: Response) => {
      runs++;
      reservations.push(req.reservation as Reservation);
      await handler(req, res, runs);
    };
    app.post('/orders', reserve, handle);
    app.post('/gifts', reserve, handle);
    app.use(jsonErrors);
    const http = await listen(app);
    closers.push(http.close);
    return { url: http.url, store, log, prefix, runs: () => runs, reservations };
  }

  return { shared, open, onClose: (close: () => Promise<void>) => closers.push(close) };
}

/** A POST with an optional Idempotency-Key. */
export function post(app: OrderApp, key: string | undefined, body: object = { sku: 'a', qty: 2 }, path = '/orders'): request.Test {
  const req = request(app.url).post(path).send(body);
  return key === undefined ? req : req.set('Idempotency-Key', key);
}
