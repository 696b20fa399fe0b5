/**
 * gate: the bare route behind `reserveStock`, store only, no database. The
 * handler counts the units it answered 201 for, so that the audit can
 * compare them with the stock.
 */
import express from 'express';
import { Redis } from 'ioredis';
import { createStockStore, reserveStock } from '../../lib';
import { jsonErrors, orderQty, orderSku, type OrderBody } from './common';
import { redisStockServer, storeFigures } from './redis-stock';
import type { ServerFactory } from './types';

export const createServer: ServerFactory = async (config) => {
  const redis = new Redis(config.redisUrl);
  const store = createStockStore({ redis, prefix: config.prefix });
  const figures = storeFigures(store);
  return redisStockServer(redis, config, figures, (countSold) => {
    const app = express();
    app.post(
      '/orders',
      express.json(),
      reserveStock({ store, key: orderSku, qty: orderQty, loader: figures.loader }),
      (req, res) => {
        const { sku, qty } = req.body as OrderBody;
        countSold(sku, qty);
        res.status(201).json({ ok: true });
      },
    );
    app.use(jsonErrors);
    return app;
  });
};
