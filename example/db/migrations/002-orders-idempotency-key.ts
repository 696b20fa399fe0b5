/**
 * Each order row keeps its request's Idempotency-Key under a unique index:
 * the database lets one order in per key, and answers a retry that Redis has
 * forgotten (a flush, a failover) with the order it placed.
 */
import type { QueryInterface } from 'sequelize';
import { addUniqueColumn } from './schema';

export async function up({ context: queries }: { context: QueryInterface }): Promise<void> {
  await addUniqueColumn(queries, 'orders', 'idempotencyKey', 'orders_idempotency_key');
}
