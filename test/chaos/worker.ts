/**
 * One worker of the chaos suite (and of the cluster suite's fleet): the
 * example app itself (createApp: its routes, loader, database guard and
 * `GET /stats`), on a store with short holds and deadlines, sweeping in-doubt
 * holds as the example's server does. The loader fails while the file named
 * by CHAOS_LOADER_FLAG exists (the suite's "loader failing" fault).
 *
 * Env: PORT, REDIS_URL (the suite's private redis-server) or
 * REDIS_CLUSTER_NODES (the cluster suite's cluster), DATABASE_URL,
 * CHAOS_PREFIX, CHAOS_HOLD_SECONDS, CHAOS_LOADER_FLAG, CHAOS_WAIT_REPLICAS
 * and CHAOS_WAIT_TIMEOUT_MS (the store's waitReplicas, default 0, and
 * waitTimeoutMs, default the store's), CHAOS_ADMIN_TOKEN (the app's admin
 * token, shared by the workers, so that a buyer named by X-Customer-Id is
 * the same customer at every worker; unset, a random one).
 */
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { StockLoader, StockStore } from '../../lib';
import { createApp } from '../../example/app';
import { createDatabase, prepareDatabase } from '../../example/db/database';
import { sweepInDoubt } from '../../example/in-doubt';
import { createLogger } from '../../example/ops/log';
import { createRedisClient, logRedisState } from '../../example/redis';

const env = process.env;
const flag = env.CHAOS_LOADER_FLAG ?? '';

/** The store with the loader it is handed wrapped: it throws while the flag file exists. */
function withFailingLoader(store: StockStore): StockStore {
  const failing = (loader: StockLoader): StockLoader => (key) => {
    if (flag !== '' && existsSync(flag)) throw new Error('chaos: the loader is failing');
    return loader(key);
  };
  // Everything else is the store's own, through the prototype.
  const shop = Object.create(store) as StockStore;
  shop.reserve = (key, qty, loader, options) => store.reserve(key, qty, loader && failing(loader), options);
  shop.reserveCart = (lines, loader, options) => store.reserveCart(lines, loader && failing(loader), options);
  return shop;
}

async function main(): Promise<void> {
  const db = createDatabase(env.DATABASE_URL || 'mysql://root@127.0.0.1:3306/test');
  await prepareDatabase(db);
  const { redis, where } = createRedisClient(env.REDIS_URL as string);
  // On stderr, which the suite shows when a worker fails: the faults' outages, a line each.
  logRedisState(redis, createLogger(process.stderr), where);
  await redis.connect();
  const { app, store } = createApp({
    db,
    redis,
    prefix: env.CHAOS_PREFIX,
    adminToken: env.CHAOS_ADMIN_TOKEN || undefined,
    store: {
      holdSeconds: Number(env.CHAOS_HOLD_SECONDS ?? 2),
      timeoutMs: 1000,
      loaderTimeoutMs: 1000,
      lockTtlMs: 2000,
      initTimeoutMs: 3000,
      waitReplicas: Number(env.CHAOS_WAIT_REPLICAS ?? 0),
      ...(env.CHAOS_WAIT_TIMEOUT_MS ? { waitTimeoutMs: Number(env.CHAOS_WAIT_TIMEOUT_MS) } : {}),
    },
    wrapStore: withFailingLoader,
  });
  const stopSweeping = sweepInDoubt(db, store, {
    intervalMs: 500,
    // One line per product, read by the suite: how many holds a dead worker left in doubt.
    onResolved: ({ key, committed, released }) => console.log(`in-doubt ${JSON.stringify({ key, committed: committed.length, released: released.length })}`),
    onError: (error) => console.error(`in-doubt sweep: ${(error as Error).message}`),
  });
  const server = app.listen(Number(env.PORT), '127.0.0.1', 1024);
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  console.log(`listening ${(server.address() as AddressInfo).port}`);
  const stop = () => {
    stopSweeping();
    server.closeAllConnections();
    server.close();
    redis.disconnect();
    void db.sequelize.close().finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // The suite's runner is the parent: never outlive it.
  process.on('disconnect', stop);
}

main().catch((error: unknown) => {
  console.error((error as Error).message ?? error);
  process.exit(1);
});
