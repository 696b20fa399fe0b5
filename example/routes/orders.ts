import { Router, type Request } from 'express';
import createError from 'http-errors';
import { UniqueConstraintError, type Transaction } from 'sequelize';
import { reserveStock, type Reservation, type StockStore } from '../../lib';
import type { Database } from '../db';
import { isStockRefused, readStock, shrinkOverstatement, takeStock } from '../inventory';
import type { OrderRow } from '../models';
import { chargePayment } from '../payment';
import { transactionWithRetry } from '../transaction';
import { parseOrder, type OrderBody } from '../validate';

/** Counters a benchmark reads: how much work reached the database. */
export interface OrderStats {
  dbTransactions: number;
}

/**
 * The order an earlier attempt with this Idempotency-Key placed. Redis's
 * record of the key answers retries first; this is the database's own
 * guard for when Redis has lost it (a flush, a failover). A key used for
 * another order is a 422.
 */
async function earlierOrder(
  db: Database,
  { sku, qty }: OrderBody,
  idempotencyKey: string,
  transaction?: Transaction,
): Promise<OrderRow | null> {
  const earlier = await db.Order.findOne({ where: { idempotencyKey }, transaction });
  if (earlier && (earlier.sku !== sku || earlier.qty !== qty)) {
    throw createError(422, 'This Idempotency-Key was used for another order');
  }
  return earlier;
}

/**
 * Decrement, order row and payment: all or nothing; or the order placed
 * before under this key. The hold is prepared last, inside the transaction:
 * should this process die between the database commit and the hold's
 * commit, the hold then waits in doubt for the order row (which names it)
 * instead of giving its units back for sale a second time.
 */
async function placeOrder(
  db: Database,
  stats: OrderStats,
  body: OrderBody,
  reservation: Reservation,
  idempotencyKey: string | undefined,
): Promise<{ order: OrderRow; earlier: boolean }> {
  const { sku, qty, payment } = body;
  stats.dbTransactions++;
  try {
    return await transactionWithRetry(db, async (transaction) => {
      const earlier = idempotencyKey === undefined ? null : await earlierOrder(db, body, idempotencyKey, transaction);
      if (earlier) return { order: earlier, earlier: true };
      await takeStock(db, sku, qty, transaction);
      const order = await db.Order.create(
        { sku, qty, status: 'pending', idempotencyKey: idempotencyKey ?? null, holdId: reservation.holdId },
        { transaction },
      );
      await chargePayment(payment);
      const paid = await order.update({ status: 'paid' }, { transaction });
      await reservation.prepare();
      return { order: paid, earlier: false };
    });
  } catch (error) {
    // Two attempts raced past Redis: the unique index let the other one in.
    if (idempotencyKey !== undefined && error instanceof UniqueConstraintError) {
      const earlier = await earlierOrder(db, body, idempotencyKey);
      if (earlier) return { order: earlier, earlier: true };
    }
    throw error;
  }
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
        const { order, earlier } = await placeOrder(db, stats, body, reservation, req.get('Idempotency-Key'));
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
