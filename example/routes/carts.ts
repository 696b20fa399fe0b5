import { Router, type Request } from 'express';
import { reserveStock, type CartReservation, type StockStore } from '../../lib';
import type { Database } from '../db';
import { isStockRefused, readStock, shrinkOverstatement, takeStock } from '../inventory';
import type { OrderRow } from '../models';
import { chargePayment } from '../payment';
import { transactionWithRetry } from '../transaction';
import { parseCart, type CartBody } from '../validate';
import type { OrderStats } from './orders';

/**
 * Every line's decrement and order row, and the payment: all or nothing,
 * each line's hold prepared last (see placeOrder in ./orders).
 */
async function placeCart(db: Database, stats: OrderStats, cart: CartReservation, payment: string): Promise<OrderRow[]> {
  stats.dbTransactions++;
  return transactionWithRetry(db, async (transaction) => {
    const orders: OrderRow[] = [];
    for (const { key, qty, holdId } of cart.lines) {
      await takeStock(db, key, qty, transaction);
      orders.push(await db.Order.create({ sku: key, qty, status: 'pending', holdId }, { transaction }));
    }
    await chargePayment(payment);
    for (const order of orders) await order.update({ status: 'paid' }, { transaction });
    await cart.prepare();
    return orders;
  });
}

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
      try {
        const orders = await placeCart(db, stats, cart, (req.body as CartBody).payment);
        await cart.commit();
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
