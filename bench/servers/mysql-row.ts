/**
 * mysql-row: the checkout without Redis. Every request runs the transaction
 * (conditional decrement of the one product row + order insert); no row
 * changed is a 409.
 */
import express from 'express';
import { isOrderBody, jsonErrors } from './common';
import { BenchDb } from './sql';
import type { Item, ServerFactory } from './types';

export const createServer: ServerFactory = async (config) => {
  const db = new BenchDb(config.mysqlUrl, config.poolMax);
  await db.open();

  const app = express();
  app.post('/orders', express.json(), (req, res, next) => {
    if (!isOrderBody(req.body)) {
      res.status(400).json({ error: 'bad order' });
      return;
    }
    const { sku, qty, payment } = req.body;
    db.sellFromRow(sku, qty, payment).then((outcome) => {
      if (outcome === 'sold') res.status(201).json({ ok: true });
      else res.status(409).json({ error: 'sold out' });
    }, next);
  });
  app.use(jsonErrors);

  return {
    handler: app,
    dbTransactions: () => db.transactions,
    busy: () => db.busy(),
    prepare: (items: Item[]) => db.createProducts(items),
    audit: (items: Item[]) => db.audit(items, 'products'),
    cleanup: (items: Item[]) => db.cleanup(items),
    close: () => db.close(),
  };
};
