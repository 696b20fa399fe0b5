/**
 * Each order row names the Redis hold its units were reserved under, under a
 * unique index: after a crash, a locking read on it tells whether that hold's
 * order committed (and waits for one still committing).
 */
import type { QueryInterface } from 'sequelize';
import { addUniqueColumn } from './schema';

export async function up({ context: queries }: { context: QueryInterface }): Promise<void> {
  await addUniqueColumn(queries, 'orders', 'holdId', 'orders_hold_id');
}
