/**
 * mysql-buckets: the stock of a sku split over 10 rows; a request reads
 * which rows have enough, tries a random one of them and falls back to the
 * others, each try a transaction of its own (decrement + order insert).
 */
import { sqlCheckoutServer } from './sql-checkout';

export const createServer = sqlCheckoutServer({
  stockTable: 'buckets',
  sell: (db, sku, qty, payment) => db.sellFromBuckets(sku, qty, payment),
  prepare: (db, items) => db.createBuckets(items),
});
