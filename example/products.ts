/**
 * The catalogue: `POST /products`, `POST /products/:sku/restock` and
 * `PUT /products/:sku/limit` (admin, see ./admin.ts), `GET /products` and
 * `GET /products/:sku` (buyers). `stock` is the database's figure,
 * `available` what Redis holds (null: not loaded), `perCustomerLimit` the
 * most units one customer may buy (null: no limit).
 */
import { Router } from 'express';
import createError from 'http-errors';
import { QueryTypes, UniqueConstraintError } from 'sequelize';
import { UNLIMITED_STOCK, type StockStore } from '../lib';
import type { Database } from './db/database';
import type { ProductRow } from './db/models';
import { unknownProduct } from './errors';
import { MAX_STOCK, parseLimit, parseProduct, parseRestock, parseSku } from './validate';

function productView({ sku, name, stock, perCustomerLimit }: ProductRow) {
  return { sku, name, stock, perCustomerLimit: perCustomerLimit ?? null };
}

// The storefront lists one page, newest first: a shop of this example's size fits in it.
const CATALOGUE_PAGE = 100;

export function productRoutes(db: Database, store: StockStore): Router {
  const router = Router();

  router.post('/products', async (req, res) => {
    const body = parseProduct(req.body);
    try {
      res.status(201).json(productView(await db.Product.create(body)));
    } catch (error) {
      if (error instanceof UniqueConstraintError) throw createError(409, `Product ${JSON.stringify(body.sku)} already exists`);
      throw error;
    }
  });

  router.get('/products', async (_req, res) => {
    const products = await db.Product.findAll({ order: [['id', 'DESC']], limit: CATALOGUE_PAGE });
    const available = await Promise.all(products.map(({ sku }) => store.getStock(sku)));
    res.set('Cache-Control', 'no-store').json(products.map((product, i) => ({ ...productView(product), available: available[i] })));
  });

  router.get('/products/:sku', async (req, res) => {
    const sku = parseSku(req.params.sku);
    const product = await db.Product.findOne({ where: { sku } });
    if (!product) throw unknownProduct(sku);
    res.json({ ...productView(product), available: await store.getStock(sku) });
  });

  // Database first, then Redis: until addStock lands, Redis under-states
  // (a buyer may be turned away), never over-states. A figure not loaded
  // yet is left alone: the loader will read the new stock. Should Redis fail
  // after the commit, the answer is a 503 though the database has the units.
  router.post('/products/:sku/restock', async (req, res) => {
    const sku = parseSku(req.params.sku);
    const { qty } = parseRestock(req.body);
    const product = await restockInDatabase(db, sku, qty);
    res.json({ ...productView(product), available: await store.addStock(sku, qty) });
  });

  // Database first, then Redis: the loader reads the limit with the stock
  // (example/checkout.ts), and setLimit changes it on a figure Redis has
  // loaded already, so the next reservation checks the new one; counts kept
  // so far stay. null clears it (setLimit 0). Should Redis fail after the
  // update, the answer is a 503 and Redis keeps the old limit until the
  // figure is next loaded (or the route is called again).
  router.put('/products/:sku/limit', async (req, res) => {
    const sku = parseSku(req.params.sku);
    const { perCustomerLimit } = parseLimit(req.body);
    const product = await db.Product.findOne({ where: { sku } });
    if (!product) throw unknownProduct(sku);
    await product.update({ perCustomerLimit });
    await store.setLimit(sku, perCustomerLimit ?? 0);
    res.json({ ...productView(product), available: await store.getStock(sku) });
  });

  return router;
}

/** Adds `qty` units in the database, in a transaction; returns the product as committed. */
async function restockInDatabase(db: Database, sku: string, qty: number): Promise<ProductRow> {
  return db.sequelize.transaction(async (transaction) => {
    const updated = await db.sequelize.query(
      'UPDATE products SET stock = stock + ? WHERE sku = ? AND stock >= 0 AND stock <= ?',
      { replacements: [qty, sku, MAX_STOCK - qty], type: QueryTypes.BULKUPDATE, transaction },
    );
    const product = await db.Product.findOne({ where: { sku }, transaction, lock: true });
    if (!product) throw unknownProduct(sku);
    if (updated === 1) return product;
    if (product.stock === UNLIMITED_STOCK) throw createError(409, `${JSON.stringify(sku)} has unlimited stock`);
    throw createError(409, `Restocking ${qty} would take ${JSON.stringify(sku)} past ${MAX_STOCK} units`);
  });
}
