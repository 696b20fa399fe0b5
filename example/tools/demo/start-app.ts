import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { stockKeys } from '../../../lib';
import { randomAdminToken } from '../../admin';
import { createApp } from '../../app';
import { config } from '../../config';
import { createDatabase, prepareDatabase } from '../../db/database';

export interface DemoTarget {
  url: string;
  /** The token of the app's admin routes, to create the sale's product. */
  adminToken: string;
  /** Removes the demo's rows and keys (only when the demo started the app itself) and closes what it opened. */
  close(...skus: string[]): Promise<void>;
}

/** Starts the example app in this process, on a free loopback port. */
export async function startLocalApp(): Promise<DemoTarget> {
  const db = createDatabase(config.databaseUrl, { pool: { max: 10 } });
  await prepareDatabase(db);
  const redis = new Redis(config.redisUrl);
  const adminToken = config.adminToken ?? randomAdminToken();
  const { app } = createApp({ db, redis, prefix: config.prefix, adminToken });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    adminToken,
    async close(...skus) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.Order.destroy({ where: { sku: skus } });
      await db.Product.destroy({ where: { sku: skus } });
      // Each product's figure, holds and lock: every key of it.
      const keys = skus.flatMap((sku) => {
        const { holds, lock } = stockKeys(config.prefix, sku);
        return [...holds, lock];
      });
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
      await db.sequelize.close();
    },
  };
}

/**
 * A running app at `url`: the demo's product stays there for you to look
 * at. Its admin token is the one it was started with, or printed.
 */
export function runningApp(url: string): DemoTarget {
  if (!config.adminToken) throw new Error('DEMO_URL needs ADMIN_TOKEN: the token the running app was given, or printed at start');
  return { url: url.replace(/\/+$/, ''), adminToken: config.adminToken, close: async () => undefined };
}
