/**
 * Idempotency-Keys belong to their customer (example/customer.ts): the
 * unique index moves from the key alone to (customer, key), so two customers
 * who happen to send the same key each get an order of their own, and the
 * lookup of an earlier order (example/checkout.ts) reads the customer's rows
 * only. Rows already there were unique by key, so they are unique by
 * (customer, key) too: the new index is added first, then the old one
 * dropped, and the table is never without a guard. Rows from before
 * migration 005 have no customer: their keys match no customer's retry. The
 * index on the customer alone goes too: the new one starts with it and
 * serves its queries.
 */
import type { QueryInterface } from 'sequelize';
import { hasIndex } from './schema';

const INDEX = 'orders_customer_idempotency_key';

export async function up({ context: queries }: { context: QueryInterface }): Promise<void> {
  if (!(await hasIndex(queries, 'orders', INDEX))) {
    await queries.addIndex('orders', ['customer', 'idempotencyKey'], { unique: true, name: INDEX });
  }
  for (const old of ['orders_idempotency_key', 'orders_customer']) {
    if (await hasIndex(queries, 'orders', old)) await queries.removeIndex('orders', old);
  }
}
