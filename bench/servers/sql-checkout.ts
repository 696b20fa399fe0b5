/**
 * The checkout without Redis, over one of the article's two MySQL designs:
 * every request runs the database transaction; a sale that finds no stock is
 * a 409.
 */
import { orderApp, type SaleOutcome } from './order-route';
import { BenchDb } from './sql';
import type { Item, ServerFactory } from './types';

export interface SqlDesign {
  /** Where the stock lives: one product row, or buckets of rows. */
  stockTable: 'products' | 'buckets';
  sell(db: BenchDb, sku: string, qty: number, payment: string): Promise<SaleOutcome>;
  prepare(db: BenchDb, items: Item[]): Promise<void>;
}

export function sqlCheckoutServer(design: SqlDesign): ServerFactory {
  return async (config) => {
    const db = new BenchDb(config.mysqlUrl, config.poolMax);
    await db.open();
    return {
      handler: orderApp((sku, qty, payment) => design.sell(db, sku, qty, payment)),
      dbTransactions: () => db.transactions,
      redisCommands: () => 0,
      busy: () => db.busy(),
      prepare: (items: Item[]) => design.prepare(db, items),
      audit: (items: Item[]) => db.audit(items, design.stockTable),
      cleanup: (items: Item[]) => db.cleanup(items),
      close: () => db.close(),
    };
  };
}
