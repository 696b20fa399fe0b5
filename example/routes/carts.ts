import { Router, type Request } from 'express';
import { reserveStock, type CartReservation, type StockStore } from '../../lib';
import type { Database } from '../db';
import { isStockRefused, readStock, shrinkOverstatement } from '../inventory';
import { placeOrder, type OrderStats } from '../place-order';
import { parseCart, type CartBody } from '../validate';

/** `POST /carts/checkout` `{ items: [{ sku, qty }], payment }`: every line sold, or none. */
export function cartRoutes(db: Database, store: StockStore, stats: OrderStats): Router {
  const router = Router();

  router.post(
    '/carts/checkout',
    (req, _res, next) => {
      req.body = parseCart(req.body);
      next();
    },
    reserveStock({
      store,
      items: (req: Request) => (req.body as CartBody).items.map(({ sku, qty }) => ({ key: sku, qty })),
      loader: (sku) => readStock(db, sku),
    }),
    async (req, res) => {
      // Set by reserveStock, which calls next() only once every line is held.
      const cart = req.reservation as CartReservation;
      const lines = cart.lines.map(({ key, qty, holdId }) => ({ sku: key, qty, holdId }));
      try {
        const { payment } = req.body as CartBody;
        const { orders, earlier } = await placeOrder(db, stats, lines, payment, () => cart.prepare(), req.get('Idempotency-Key'));
        // A repeat of a cart already placed: its units were taken then, so this attempt's go back.
        await (earlier ? cart.release() : cart.commit());
        res.status(201).json({ orders: orders.map(({ id, sku, qty, status }) => ({ id, sku, qty, status })) });
      } catch (error) {
        // As for one order: the refused line keeps its hold and gives back what the database has; the others go back.
        const refused = isStockRefused(error) ? cart.lines.find((line) => line.key === error.sku) : undefined;
        if (refused && isStockRefused(error)) await shrinkOverstatement(store, refused, error, () => store.commit(refused.holdId));
        await cart.release();
        throw error;
      }
    },
  );

  return router;
}
