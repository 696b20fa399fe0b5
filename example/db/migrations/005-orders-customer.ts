/**
 * Each order row names its customer (example/customer.ts): who bought what,
 * for the shop's own records and for per-customer rules. Rows from before
 * this migration have none.
 */
import type { QueryInterface } from 'sequelize';
import { hasColumn, hasIndex } from './schema';

export async function up({ context: queries }: { context: QueryInterface }): Promise<void> {
  if (!(await hasColumn(queries, 'orders', 'customer'))) {
    await queries.sequelize.query('ALTER TABLE `orders` ADD COLUMN `customer` VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL DEFAULT NULL');
  }
  if (!(await hasIndex(queries, 'orders', 'orders_customer'))) await queries.addIndex('orders', ['customer'], { name: 'orders_customer' });
}
