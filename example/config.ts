/** Settings of the example app, read from the environment once. */
export interface Config {
  port: number;
  /** Loopback by default: the example serves this machine only unless told otherwise. */
  host: string;
  redisUrl: string;
  databaseUrl: string;
  /** The admin routes' bearer token; unset, the server makes a random one at start. */
  adminToken: string | undefined;
  /** METRICS_SKU_LABEL=1: a `sku` label on the event counters (one series per product). */
  metricsSkuLabel: boolean;
}

function readPort(value: string | undefined): number {
  if (value === undefined || value === '') return 3000;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PORT must be a whole number from 0 to 65535, not ${JSON.stringify(value)}`);
  }
  return port;
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    port: readPort(env.PORT),
    host: env.HOST || '127.0.0.1',
    redisUrl: env.REDIS_URL || 'redis://127.0.0.1:6379',
    databaseUrl: env.DATABASE_URL || 'mysql://root@127.0.0.1:3306/test',
    adminToken: env.ADMIN_TOKEN || undefined,
    metricsSkuLabel: env.METRICS_SKU_LABEL === '1',
  };
}

export const config: Config = readConfig();
