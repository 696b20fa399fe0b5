/**
 * gate: the bare route behind `reserveStock`, store only, no database. The
 * handler counts the units it answered 201 for, so that the audit can
 * compare them with the stock.
 */
import express from 'express';
import { Redis } from 'ioredis';
import { createStockStore, reserveStock } from '../../lib';
import { deleteKeys, jsonErrors, orderQty, orderSku, type OrderBody } from './common';
import { auditFigures } from './sql';
import type { Item, ServerFactory } from './types';

export const createServer: ServerFactory = async (config) => {
  const redis = new Redis(config.redisUrl);
  const store = createStockStore({ redis, prefix: config.prefix });
  const stockBySku = new Map<string, number>();
  const soldBySku = new Map<string, number>();

  const app = express();
  app.post(
    '/orders',
    express.json(),
    reserveStock({ store, key: orderSku, qty: orderQty, loader: (sku) => stockBySku.get(sku) ?? 0 }),
    (req, res) => {
      const { sku, qty } = req.body as OrderBody;
      soldBySku.set(sku, (soldBySku.get(sku) ?? 0) + qty);
      res.status(201).json({ ok: true });
    },
  );
  app.use(jsonErrors);

  return {
    handler: app,
    dbTransactions: () => 0,
    busy: () => 0,
    async prepare(items: Item[]) {
      for (const { sku, stock } of items) {
        stockBySku.set(sku, stock);
        await store.setStock(sku, stock);
      }
    },
    async audit(items: Item[]) {
      const left = new Map<string, number>();
      for (const { sku } of items) {
        const stock = await store.getStock(sku);
        if (stock !== null) left.set(sku, stock);
      }
      return auditFigures(items, soldBySku, left);
    },
    async cleanup() {
      await deleteKeys(redis, config.prefix);
    },
    async close() {
      await redis.quit();
    },
  };
};
