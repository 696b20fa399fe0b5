import { Router, type Request } from 'express';
import { reserveStock, type Reservation, type StockStore } from '../../lib';
import type { Database } from '../db';
import { isStockRefused, readStock, takeStock, type StockRefused } from '../inventory';
import type { OrderRow } from '../models';
import { chargePayment } from '../payment';
import { parseOrder, type OrderBody } from '../validate';

/** Counters a benchmark reads: how much work reached the database. */
export interface OrderStats {
  dbTransactions: number;
}

/** Decrement, order row and payment: all or nothing. */
async function placeOrder(db: Database, stats: OrderStats, { sku, qty, payment }: OrderBody): Promise<OrderRow> {
  stats.dbTransactions++;
  return db.sequelize.transaction(async (transaction) => {
    await takeStock(db, sku, qty, transaction);
    const order = await db.Order.create({ sku, qty, status: 'pending' }, { transaction });
    await chargePayment(payment);
    return order.update({ status: 'paid' }, { transaction });
  });
}

/**
 * The database refused units that Redis had reserved: the Redis figure
 * over-states (it was reloaded while other orders held units). Returning all
 * the units would keep it over-stated; keeping them all could under-state
 * when the database still has some. Giving back only what the database has
 * left lowers the excess and never goes below the truth, since the excess
 * was at least `qty - dbStock`.
 */
async function shrinkOverstatement(store: StockStore, reservation: Reservation, refused: StockRefused): Promise<void> {
  await reservation.commit();
  const giveBack = Math.min(refused.dbStock, reservation.qty);
  if (giveBack > 0) await store.addStock(reservation.key, giveBack);
}

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
        const order = await placeOrder(db, stats, body);
        await reservation.commit();
        res.status(201).json({ id: order.id, sku: order.sku, qty: order.qty, status: order.status });
      } catch (error) {
        // The middleware would give the units back as the error response
        // ends; doing it first means a client that reads the 402 or 409
        // already finds them back in Redis.
        if (isStockRefused(error)) await shrinkOverstatement(store, reservation, error);
        else await reservation.release();
        throw error;
      }
    },
  );

  return router;
}
