import type { Logger } from 'pino';
import type { RedisClient } from '../lib';
import type { Config } from './config';
import { createDatabase, prepareDatabase, type Database } from './db/database';
import { createRedisClient, logRedisState } from './redis';

/** The database pool and the Redis client the example's commands share. */
export interface Services {
  db: Database;
  redis: RedisClient;
  close(): Promise<void>;
}

/**
 * Opens the database (migrated, an empty shop seeded) and Redis (the Redis
 * Cluster of REDIS_CLUSTER_NODES when that is set), whose connection state
 * changes are logged from then on; fails fast with the variable to fix when
 * either cannot be reached.
 */
export async function openServices(config: Config, logger: Logger): Promise<Services> {
  const db = createDatabase(config.databaseUrl);
  try {
    await prepareDatabase(db);
  } catch (error) {
    await db.sequelize.close();
    throw new Error(`Cannot use the database at DATABASE_URL=${config.databaseUrl}: ${(error as Error).message}`, { cause: error });
  }
  // lazyConnect + connect(): a Redis that is not there is an error now, not a queue of commands.
  const { redis, where } = createRedisClient(config.redisUrl);
  logRedisState(redis, logger, where);
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    await db.sequelize.close();
    throw new Error(`Cannot reach Redis at ${where}: ${(error as Error).message}`, { cause: error });
  }
  return {
    db,
    redis,
    close: async () => {
      await redis.quit();
      await db.sequelize.close();
    },
  };
}
