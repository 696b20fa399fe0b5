import { Router, type Request } from 'express';
import { reserveStock, type Reservation, type StockStore } from '../../lib';
import type { Database } from '../db';
import { isStockRefused, readStock, shrinkOverstatement } from '../inventory';
import type { OrderRow } from '../models';
import { placeOrder, type OrderStats } from '../place-order';
import { parseOrder, type OrderBody } from '../validate';

/** `POST /orders` `{ sku, qty, payment }`: one line through reserveStock and the database's guard. */
export function orderRoutes(db: Database, store: StockStore, stats: OrderStats): Router {
  const router = Router();

  router.post(
    '/orders',
    (req, _res, next) => {
      req.body = parseOrder(req.body);
      next();
    },
    reserveStock({
      store,
      key: (req: Request) => (req.body as OrderBody).sku,
      qty: (req: Request) => (req.body as OrderBody).qty,
      loader: (sku) => readStock(db, sku),
    }),
    async (req, res) => {
      const body = req.body as OrderBody;
      // Set by reserveStock, which calls next() only once the units are held.
      const reservation = req.reservation as Reservation;
      try {
        const line = { sku: body.sku, qty: body.qty, holdId: reservation.holdId };
        const placed = await placeOrder(db, stats, [line], body.payment, () => reservation.prepare(), req.get('Idempotency-Key'));
        const { orders: [order], earlier } = placed as { orders: [OrderRow]; earlier: boolean };
        // A repeat of an order already placed: its units were taken then, so this attempt's go back.
        await (earlier ? reservation.release() : reservation.commit());
        res.status(201).json({ id: order.id, sku: order.sku, qty: order.qty, status: order.status });
      } catch (error) {
        // The middleware would give the units back as the error response
        // ends; doing it first means a client that reads the 402 or 409
        // already finds them back in Redis.
        if (isStockRefused(error)) await shrinkOverstatement(store, reservation, error, () => reservation.commit());
        else await reservation.release();
        throw error;
      }
    },
  );

  return router;
}
