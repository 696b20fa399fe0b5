import { randomBytes } from 'node:crypto';
import type { StockCommands } from '../scripts/commands';
import type { RedisClient } from '../types';

/**
 * The initialisation lock: spares the database a stampede when a figure is
 * missing. It is an efficiency lock (one Redis node is enough): correctness
 * comes from initAndReserve writing the figure with SET NX, so two holders
 * (after an expiry) can never overwrite a figure.
 *
 * Owned by a random token and released by compare-and-delete, so a caller
 * only ever frees a lock it holds.
 */
export class InitLock {
  constructor(
    private readonly redis: RedisClient,
    private readonly commands: StockCommands,
    private readonly ttlMs: number,
  ) {}

  /** The owner's token when acquired, `null` when another caller holds it. */
  async tryAcquire(lockKey: string): Promise<string | null> {
    const token = randomBytes(16).toString('hex');
    const reply = await this.redis.set(lockKey, token, 'PX', this.ttlMs, 'NX');
    return reply === 'OK' ? token : null;
  }

  /** Frees the lock if `token` still owns it; true when it did. */
  async release(lockKey: string, token: string): Promise<boolean> {
    return (await this.commands.releaseLock(lockKey, token)) === 1;
  }
}
