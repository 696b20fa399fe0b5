import { Router } from 'express';
import type { StockStore } from '../../lib';
import type { SaleTimeline } from './timeline';

/**
 * `GET /dashboard/data`: the timeline of the sale. Events give the stock
 * only when units are reserved, refused or loaded; reading each followed
 * product's figure here also catches units given back and restocks.
 */
export function dashboardRoutes(store: StockStore, timeline: SaleTimeline): Router {
  const router = Router();
  router.get('/dashboard/data', async (_req, res) => {
    const skus = timeline.products();
    const figures = await Promise.all(skus.map((sku) => store.getStock(sku)));
    skus.forEach((sku, i) => {
      const units = figures[i];
      if (units !== null && units !== undefined) timeline.stock(sku, units);
    });
    res.set('Cache-Control', 'no-store').json(timeline.window());
  });
  return router;
}
