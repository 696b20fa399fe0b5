import { Router } from 'express';
import createError from 'http-errors';
import { UniqueConstraintError } from 'sequelize';
import type { StockStore } from '../../lib';
import type { Database } from '../db';
import { restockInDatabase } from '../inventory';
import type { ProductRow } from '../models';
import { parseProduct, parseRestock, parseSku } from '../validate';

function productView({ sku, name, stock }: ProductRow) {
  return { sku, name, stock };
}

// The storefront lists one page, newest first: a shop of this example's size fits in it.
const CATALOGUE_PAGE = 100;

/** Catalogue routes. `stock` is the database's figure, `available` what Redis holds (null: not loaded). */
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
    if (!product) throw createError(404, `Unknown product ${JSON.stringify(sku)}`);
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

  return router;
}
