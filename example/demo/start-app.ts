import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { stockKeys } from '../../lib';
import { createApp, DEFAULT_PREFIX } from '../app';
import { config } from '../config';
import { createDatabase, prepareDatabase } from '../db';

export interface DemoTarget {
  url: string;
  /** Removes the demo's rows and key (only when the demo started the app itself) and closes what it opened. */
  close(sku: string): Promise<void>;
}

/** Starts the example app in this process, on a free loopback port. */
export async function startLocalApp(): Promise<DemoTarget> {
  const db = createDatabase(config.databaseUrl, { pool: { max: 10 } });
  await prepareDatabase(db);
  const redis = new Redis(config.redisUrl);
  const { app } = createApp({ db, redis });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async close(sku) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.Order.destroy({ where: { sku } });
      await db.Product.destroy({ where: { sku } });
      await redis.del(stockKeys(DEFAULT_PREFIX, sku).stock);
      await redis.quit();
      await db.sequelize.close();
    },
  };
}

/** A running app at `url`: the demo's product stays there for you to look at. */
export function runningApp(url: string): DemoTarget {
  return { url: url.replace(/\/+$/, ''), close: async () => undefined };
}
