/**
 * Mocha wiring for a suite on one private redis-server (./redis-server.ts):
 * started before the suite; after each test its clients are closed, the
 * server is started again if the test stopped it, and its data is flushed
 * (the private server only); stopped after the suite.
 *
 * @example
 * let server: RedisServer;
 * let admin: Redis;
 * const client = usePrivateRedis({}, (opened) => ({ server, admin } = opened));
 * it('...', async () => { const redis = client({ retryStrategy: () => 100 }); ... });
 */
import Redis, { type RedisOptions } from 'ioredis';
import { RedisServer, type RedisServerOptions } from './redis-server';

export interface PrivateRedis {
  server: RedisServer;
  /** A client of the suite's own, for setup and checks: it rides out restarts. */
  admin: Redis;
}

/** Returns the maker of clients of the private server, closed after each test. */
export function usePrivateRedis(options: RedisServerOptions, opened: (redis: PrivateRedis) => void): (options?: RedisOptions) => Redis {
  let server: RedisServer | undefined;
  let admin: Redis | undefined;
  const clients: Redis[] = [];
  before(async () => {
    server = await RedisServer.start(options);
    admin = new Redis(server.url);
    admin.on('error', () => {}); // connection errors are expected while a test has Redis down
    opened({ server, admin });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.disconnect();
    if (!server || !admin) return;
    if (!server.running) await server.start();
    const ready = admin;
    if (ready.status !== 'ready') await new Promise((resolve) => ready.once('ready', resolve));
    await ready.flushall();
  });
  after(async () => {
    admin?.disconnect();
    await server?.dispose();
  });
  return (clientOptions: RedisOptions = {}) => {
    if (!server) throw new Error('usePrivateRedis: used outside a test');
    const c = new Redis(server.url, clientOptions);
    c.on('error', () => {}); // connection errors are expected here
    clients.push(c);
    return c;
  };
}
