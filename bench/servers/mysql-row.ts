/**
 * mysql-row: the checkout without Redis. Every request runs the transaction
 * (conditional decrement of the one product row + order insert); no row
 * changed is a 409.
 */
import { sqlCheckoutServer } from './sql-checkout';

export const createServer = sqlCheckoutServer({
  stockTable: 'products',
  sell: (db, sku, qty, payment) => db.sellFromRow(sku, qty, payment),
  prepare: (db, items) => db.createProducts(items),
});
