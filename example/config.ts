/** Settings of the example app, read from the environment once. */
export interface Config {
  port: number;
  /** Loopback by default: the example serves this machine only unless told otherwise. */
  host: string;
  redisUrl: string;
  databaseUrl: string;
  /** Where the Redis keys of the shop's stock figures start (REDIS_PREFIX). */
  prefix: string;
  /** The admin routes' bearer token; unset, the server makes a random one at start. */
  adminToken: string | undefined;
  /** COOKIE_SECRET: signs the customer cookie; unset, a random one per process (customers are forgotten at restart). */
  cookieSecret: string | undefined;
  /** METRICS_SKU_LABEL=1: a `sku` label on the event counters (one series per product). */
  metricsSkuLabel: boolean;
  /** SHUTDOWN_TIMEOUT_MS: how long SIGTERM waits for requests in flight before the process exits anyway. */
  shutdownTimeoutMs: number;
}

/** Redis keys of the example's stock figures start with this unless REDIS_PREFIX says otherwise. */
export const DEFAULT_PREFIX = 'example:stock:';

function readWholeNumber(name: string, value: string | undefined, fallback: number, max: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > max) {
    throw new Error(`${name} must be a whole number from 0 to ${max}, not ${JSON.stringify(value)}`);
  }
  return n;
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    port: readWholeNumber('PORT', env.PORT, 3000, 65535),
    host: env.HOST || '127.0.0.1',
    redisUrl: env.REDIS_URL || 'redis://127.0.0.1:6379',
    databaseUrl: env.DATABASE_URL || 'mysql://root@127.0.0.1:3306/test',
    prefix: env.REDIS_PREFIX || DEFAULT_PREFIX,
    adminToken: env.ADMIN_TOKEN || undefined,
    cookieSecret: env.COOKIE_SECRET || undefined,
    metricsSkuLabel: env.METRICS_SKU_LABEL === '1',
    shutdownTimeoutMs: readWholeNumber('SHUTDOWN_TIMEOUT_MS', env.SHUTDOWN_TIMEOUT_MS, 10_000, 600_000),
  };
}

export const config: Config = readConfig();
