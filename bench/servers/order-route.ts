/**
 * The hand-written `POST /orders` route: the body checked, one sale tried,
 * 201 when it sold and 409 when it found no stock. Every contender without
 * the `reserveStock` middleware answers through it, so that they differ only
 * in how they sell.
 */
import express from 'express';
import { isOrderBody, jsonErrors } from './common';

export type SaleOutcome = 'sold' | 'sold-out';

/** `POST /orders` answering 201 for a sale and 409 when `sell` finds no stock. */
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
