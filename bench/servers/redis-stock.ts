/**
 * What the contenders whose stock lives in Redis alone share (gate,
 * store-route, raw-seed): no database, so the handler counts the units it
 * answered 201 for, and the audit compares them with the stock and with the
 * figure left in Redis.
 */
import type { RequestListener } from 'node:http';
import type { Redis } from 'ioredis';
import type { StockStore } from '../../lib';
import { deleteKeys } from './common';
import { countCommands } from './count-commands';
import { auditFigures } from './sql';
import type { ContenderServer, Item, ServerConfig } from './types';

/** Where a contender keeps its figures: set before the run, read back by the audit. */
export interface StockFigures {
  set(sku: string, stock: number): Promise<void>;
  /** Units left, or null when there is no figure. */
  left(sku: string): Promise<number | null>;
}

/** Adds units the handler answered 201 for to its sku's count. */
export type CountSold = (sku: string, qty: number) => void;

/** A contender's server around `app`, its figures in Redis under `config.prefix`. */
export function redisStockServer(
  redis: Redis,
  config: ServerConfig,
  figures: StockFigures,
  app: (countSold: CountSold) => RequestListener,
): ContenderServer {
  const soldBySku = new Map<string, number>();
  return {
    handler: app((sku, qty) => soldBySku.set(sku, (soldBySku.get(sku) ?? 0) + qty)),
    dbTransactions: () => 0,
    redisCommands: countCommands(redis),
    busy: () => 0,
    async prepare(items: Item[]) {
      for (const { sku, stock } of items) await figures.set(sku, stock);
    },
    async audit(items: Item[]) {
      const left = new Map<string, number>();
      for (const { sku } of items) {
        const stock = await figures.left(sku);
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
}

/**
 * The store's figures (gate, store-route), with the loader the store calls
 * should a figure be missing: it answers the stock the item was prepared with.
 */
export function storeFigures(store: StockStore): StockFigures & { loader: (sku: string) => number } {
  const stockBySku = new Map<string, number>();
  return {
    loader: (sku) => stockBySku.get(sku) ?? 0,
    async set(sku, stock) {
      stockBySku.set(sku, stock);
      await store.setStock(sku, stock);
    },
    left: (sku) => store.getStock(sku),
  };
}
