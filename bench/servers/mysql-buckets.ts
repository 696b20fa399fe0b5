/**
 * mysql-buckets: the stock of a sku split over 10 rows; a request reads
 * which rows have enough, tries a random one of them and falls back to the
 * others, each try a transaction of its own (decrement + order insert).
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
    db.sellFromBuckets(sku, qty, payment).then((outcome) => {
      if (outcome === 'sold') res.status(201).json({ ok: true });
      else res.status(409).json({ error: 'sold out' });
    }, next);
  });
  app.use(jsonErrors);

  return {
    handler: app,
    dbTransactions: () => db.transactions,
    busy: () => db.busy(),
    prepare: (items: Item[]) => db.createBuckets(items),
    audit: (items: Item[]) => db.audit(items, 'buckets'),
    cleanup: (items: Item[]) => db.cleanup(items),
    close: () => db.close(),
  };
};
