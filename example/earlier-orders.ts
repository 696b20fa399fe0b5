import { createHash } from 'node:crypto';
import createError from 'http-errors';
import type { Transaction } from 'sequelize';
import type { Database } from './db';
import type { OrderRow } from './models';
import { MAX_CART_LINES } from './validate';

/** One line of an order as the database keeps it. */
export interface OrderLine {
  sku: string;
  qty: number;
}

/**
 * The idempotency key stored on line `index` of an order: the request's own
 * key on the first line, a digest of it and the line on the others, so that
 * every row keeps a unique key of at most 255 characters.
 */
export function lineKey(idempotencyKey: string, index: number): string {
  if (index === 0) return idempotencyKey;
  return `line:${createHash('sha256').update(idempotencyKey).update('\n').update(String(index)).digest('hex')}`;
}

/**
 * The rows an earlier attempt with this Idempotency-Key placed, line by
 * line, or null. Redis's record of the key answers retries first; this is
 * the database's own guard for when Redis has lost it (a flush, a
 * failover). A key used for other lines is a 422.
 */
export async function earlierOrders(
  db: Database,
  lines: readonly OrderLine[],
  idempotencyKey: string,
  transaction?: Transaction,
): Promise<OrderRow[] | null> {
  // Almost always there is none: one read of the first line's key says so.
  const first = await db.Order.findOne({ where: { idempotencyKey }, attributes: ['id'], transaction });
  if (first === null) return null;
  const keys = Array.from({ length: MAX_CART_LINES }, (_, i) => lineKey(idempotencyKey, i));
  const rows = await db.Order.findAll({ where: { idempotencyKey: keys }, transaction });
  rows.sort((a, b) => keys.indexOf(a.idempotencyKey as string) - keys.indexOf(b.idempotencyKey as string));
  const same = rows.length === lines.length && rows.every((row, i) => row.sku === lines[i]?.sku && row.qty === lines[i]?.qty);
  if (!same) throw createError(422, 'This Idempotency-Key was used for another order');
  return rows;
}
