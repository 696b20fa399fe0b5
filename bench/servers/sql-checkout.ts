/**
 * The checkout without Redis, over one of the article's two MySQL designs:
 * every request runs the database transaction; a sale that finds no stock is
 * a 409.
 */
import express from 'express';
import { isOrderBody, jsonErrors } from './common';
import { BenchDb, type SaleOutcome } from './sql';
import type { Item, ServerFactory } from './types';

export interface SqlDesign {
  /** Where the stock lives: one product row, or buckets of rows. */
  stockTable: 'products' | 'buckets';
  sell(db: BenchDb, sku: string, qty: number, payment: string): Promise<SaleOutcome>;
  prepare(db: BenchDb, items: Item[]): Promise<void>;
}

/** `POST /orders` answering 201 for a sale and 409 when `sell` finds no stock: the route every database contender shares. */
export function orderApp(sell: (sku: string, qty: number, payment: string) => Promise<SaleOutcome>): express.Express {
  const app = express();
  app.post('/orders', express.json(), (req, res, next) => {
    if (!isOrderBody(req.body)) {
      res.status(400).json({ error: 'bad order' });
      return;
    }
    const { sku, qty, payment } = req.body;
    sell(sku, qty, payment).then((outcome) => {
      if (outcome === 'sold') res.status(201).json({ ok: true });
      else res.status(409).json({ error: 'sold out' });
    }, next);
  });
  app.use(jsonErrors);
  return app;
}

export function sqlCheckoutServer(design: SqlDesign): ServerFactory {
  return async (config) => {
    const db = new BenchDb(config.mysqlUrl, config.poolMax);
    await db.open();
    return {
      handler: orderApp((sku, qty, payment) => design.sell(db, sku, qty, payment)),
      dbTransactions: () => db.transactions,
      busy: () => db.busy(),
      prepare: (items: Item[]) => design.prepare(db, items),
      audit: (items: Item[]) => db.audit(items, design.stockTable),
      cleanup: (items: Item[]) => db.cleanup(items),
      close: () => db.close(),
    };
  };
}
