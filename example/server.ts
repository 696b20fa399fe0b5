import type { AddressInfo } from 'node:net';
import type { StockEvent } from '../lib';
import { randomAdminToken } from './admin';
import { createApp } from './app';
import { config } from './config';
import { sweepInDoubt } from './in-doubt';
import { openServices } from './services';

/** How often the in-doubt holds of a crashed worker's orders are settled against the database. */
const IN_DOUBT_SWEEP_MS = 5000;

/** The library's failures (Redis or the loader down: the 503s) belong in the log. */
function logFailures(event: StockEvent): void {
  if (event.type === 'error') console.error(`reserve-stock ${event.operation} ${event.key ?? ''}: ${event.error.message}`);
}

/** Runs the example shop until SIGINT or SIGTERM. */
async function main(): Promise<void> {
  const { db, redis, close } = await openServices(config);
  const adminToken = config.adminToken ?? randomAdminToken();
  const { app, store } = createApp({ db, redis, onEvent: logFailures, adminToken, metrics: { skuLabel: config.metricsSkuLabel } });
  const stopSweeping = sweepInDoubt(db, store, {
    intervalMs: IN_DOUBT_SWEEP_MS,
    onResolved: ({ key, committed, released }) =>
      console.log(`in-doubt holds of ${key} settled: ${committed.length} committed, ${released.length} released`),
    onError: (error) => console.error(`in-doubt sweep: ${(error as Error).message ?? error}`),
  });
  const server = app.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { address, port } = server.address() as AddressInfo;
  console.log(`reserve-stock example listening on http://${address}:${port}`);
  // Printed only when made here: a token from the environment is already known to whoever set it.
  if (config.adminToken === undefined) console.log(`ADMIN_TOKEN was not set; admin routes take this one: ${adminToken}`);
  console.log(`storefront http://${address}:${port}/ · dashboard http://${address}:${port}/dashboard · metrics http://${address}:${port}/metrics`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: closing the server, Redis and the database pool`);
    stopSweeping();
    // close() waits for requests in progress; idle keep-alive sockets are closed for it.
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await close();
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      stop(signal).catch((error: unknown) => {
        console.error(error);
        process.exit(1);
      });
    });
  }
}

main().catch((error: unknown) => {
  console.error((error as Error).message ?? error);
  process.exit(1);
});
