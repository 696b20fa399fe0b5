import { UniqueConstraintError, type Transaction } from 'sequelize';
import type { Database } from './db';
import { earlierOrders, lineKey } from './earlier-orders';
import { takeStock } from './inventory';
import type { OrderRow } from './models';
import { chargePayment } from './payment';
import { transactionWithRetry } from './transaction';

/** Counters a benchmark reads: how much work reached the database. */
export interface OrderStats {
  dbTransactions: number;
}

/** A line to place: its units are held in Redis under `holdId`. */
export interface HeldLine {
  sku: string;
  qty: number;
  holdId: string;
}

/**
 * Every line's decrement (the database's last guard) and order row, and the
 * payment: all or nothing; or the rows an earlier attempt with this
 * Idempotency-Key placed (`earlier`). `prepare` (the holds' phase one) runs
 * last, inside the transaction: should this process die between the
 * database commit and the holds' commit, the holds then wait in doubt for
 * the order rows (which name them) instead of giving their units back for
 * sale a second time.
 */
export async function placeOrder(
  db: Database,
  stats: OrderStats,
  lines: readonly HeldLine[],
  payment: string,
  prepare: () => Promise<unknown>,
  idempotencyKey: string | undefined,
): Promise<{ orders: OrderRow[]; earlier: boolean }> {
  const earlier = async (transaction?: Transaction) =>
    idempotencyKey === undefined ? null : earlierOrders(db, lines, idempotencyKey, transaction);
  stats.dbTransactions++;
  try {
    return await transactionWithRetry(db, async (transaction) => {
      const placed = await earlier(transaction);
      if (placed) return { orders: placed, earlier: true };
      const orders: OrderRow[] = [];
      for (const [i, { sku, qty, holdId }] of lines.entries()) {
        await takeStock(db, sku, qty, transaction);
        const idempotency = idempotencyKey === undefined ? null : lineKey(idempotencyKey, i);
        orders.push(await db.Order.create({ sku, qty, status: 'pending', holdId, idempotencyKey: idempotency }, { transaction }));
      }
      await chargePayment(payment);
      for (const order of orders) await order.update({ status: 'paid' }, { transaction });
      await prepare();
      return { orders, earlier: false };
    });
  } catch (error) {
    // Two attempts raced past Redis: the unique index let the other one in.
    if (error instanceof UniqueConstraintError) {
      const placed = await earlier();
      if (placed) return { orders: placed, earlier: true };
    }
    throw error;
  }
}
