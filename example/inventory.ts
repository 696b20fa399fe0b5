import createError, { type HttpError } from 'http-errors';
import { QueryTypes, type Transaction } from 'sequelize';
import type { StockStore } from '../lib';
import type { Database } from './db';
import { UNLIMITED, type ProductRow } from './models';
import { MAX_STOCK } from './validate';

/** The database's own refusal: fewer units of `sku` than ordered, whatever Redis said. */
export type StockRefused = HttpError<409> & { sku: string; dbStock: number };

export function isStockRefused(error: unknown): error is StockRefused {
  return createError.isHttpError(error) && typeof (error as Partial<StockRefused>).dbStock === 'number';
}

function unknownProduct(sku: string): HttpError<404> {
  return createError(404, `Unknown product ${JSON.stringify(sku)}`);
}

/** The stock loader of the reserveStock middleware: the database is the source of truth. */
export async function readStock(db: Database, sku: string): Promise<number> {
  const product = await db.Product.findOne({ where: { sku }, attributes: ['stock'] });
  if (!product) throw unknownProduct(sku);
  return product.stock;
}

async function lockedStock(db: Database, sku: string, transaction: Transaction): Promise<number | null> {
  const product = await db.Product.findOne({ where: { sku }, attributes: ['stock'], transaction, lock: true });
  return product ? product.stock : null;
}

/**
 * Takes `qty` units in the database inside the order's transaction: the last
 * guard behind Redis. The conditional UPDATE never lets stock go below 0;
 * when it matches no row, the locked row tells why (unknown, unlimited, or
 * too few units).
 */
export async function takeStock(db: Database, sku: string, qty: number, transaction: Transaction): Promise<void> {
  const updated = await db.sequelize.query('UPDATE products SET stock = stock - ? WHERE sku = ? AND stock >= ?', {
    replacements: [qty, sku, qty],
    type: QueryTypes.BULKUPDATE,
    transaction,
  });
  if (updated === 1) return;
  const stock = await lockedStock(db, sku, transaction);
  if (stock === null) throw unknownProduct(sku);
  if (stock === UNLIMITED) return;
  throw createError(409, `Not enough stock for ${JSON.stringify(sku)}`, { sku, dbStock: stock }) as StockRefused;
}

/**
 * The database refused units that Redis had reserved: the Redis figure
 * over-states (it was reloaded while other orders held units). Returning all
 * the units would keep it over-stated; keeping them all could under-state
 * when the database still has some. Keeping the hold (`commit`) and giving
 * back only what the database has left lowers the excess and never goes
 * below the truth, since the excess was at least `qty - dbStock`.
 */
export async function shrinkOverstatement(
  store: StockStore,
  { qty }: { qty: number },
  refused: StockRefused,
  commit: () => Promise<unknown>,
): Promise<void> {
  await commit();
  const giveBack = Math.min(refused.dbStock, qty);
  if (giveBack > 0) await store.addStock(refused.sku, giveBack);
}

/** Adds `qty` units in the database, in a transaction; returns the product as committed. */
export async function restockInDatabase(db: Database, sku: string, qty: number): Promise<ProductRow> {
  return db.sequelize.transaction(async (transaction) => {
    const updated = await db.sequelize.query(
      'UPDATE products SET stock = stock + ? WHERE sku = ? AND stock >= 0 AND stock <= ?',
      { replacements: [qty, sku, MAX_STOCK - qty], type: QueryTypes.BULKUPDATE, transaction },
    );
    const product = await db.Product.findOne({ where: { sku }, transaction, lock: true });
    if (!product) throw unknownProduct(sku);
    if (updated === 1) return product;
    if (product.stock === UNLIMITED) throw createError(409, `${JSON.stringify(sku)} has unlimited stock`);
    throw createError(409, `Restocking ${qty} would take ${JSON.stringify(sku)} past ${MAX_STOCK} units`);
  });
}
