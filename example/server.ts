/**
 * `npm start`: migrates the database, connects Redis, serves the shop, and
 * settles in-doubt holds in the background until SIGINT or SIGTERM. Logs are
 * JSON lines on stdout (pino): the request log, Redis's connection state,
 * the sweeps, failures.
 */
import type { AddressInfo } from 'node:net';
import type { StockEvent } from '../lib';
import { randomAdminToken } from './admin';
import { createApp } from './app';
import { config } from './config';
import { sweepInDoubt } from './in-doubt';
import { createLogger } from './ops/log';
import { openServices } from './services';

/** How often the in-doubt holds of a crashed worker's orders are settled against the database. */
const IN_DOUBT_SWEEP_MS = 5000;

const logger = createLogger();

/** The library's failures (Redis or the loader down: the 503s) belong in the log. */
function logFailures(event: StockEvent): void {
  if (event.type === 'error') logger.error({ operation: event.operation, key: event.key, err: event.error.message }, `reserve-stock ${event.operation} failed`);
}

/** Runs the example shop until SIGINT or SIGTERM. */
async function main(): Promise<void> {
  const { db, redis, close } = await openServices(config, logger);
  const adminToken = config.adminToken ?? randomAdminToken();
  const { app, store } = createApp({
    db,
    redis,
    prefix: config.prefix,
    onEvent: logFailures,
    adminToken,
    cookieSecret: config.cookieSecret,
    metrics: { skuLabel: config.metricsSkuLabel },
    logger,
  });
  const stopSweeping = sweepInDoubt(db, store, {
    intervalMs: IN_DOUBT_SWEEP_MS,
    onResolved: ({ key, committed, released }) =>
      logger.info({ key, committed: committed.length, released: released.length }, `in-doubt holds of ${key} settled`),
    onError: (error) => logger.error({ err: (error as Error).message ?? error }, 'in-doubt sweep failed'),
  });
  const server = app.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { address, port } = server.address() as AddressInfo;
  const base = `http://${address}:${port}`;
  logger.info(`reserve-stock example listening on ${base}`);
  // Printed only when made here: a token from the environment is already known to whoever set it.
  if (config.adminToken === undefined) logger.info(`ADMIN_TOKEN was not set; admin routes take this one: ${adminToken}`);
  logger.info(`storefront ${base}/ · dashboard ${base}/dashboard · metrics ${base}/metrics`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal}: closing the server, Redis and the database pool`);
    // A request that never ends (a client that stalls mid-body) must not keep the process up for ever.
    setTimeout(() => {
      logger.error(`shutdown did not finish within ${config.shutdownTimeoutMs} ms; exiting anyway`);
      process.exit(1);
    }, config.shutdownTimeoutMs).unref();
    stopSweeping();
    // close() waits for requests in progress; idle keep-alive sockets are closed for it.
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await close();
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      stop(signal).catch((error: unknown) => {
        logger.error({ err: (error as Error).message ?? error }, 'shutdown failed');
        process.exit(1);
      });
    });
  }
}

main().catch((error: unknown) => {
  logger.error((error as Error).message ?? String(error));
  process.exit(1);
});
