import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { unavailable } from '../errors';
import type { StockCommands } from '../scripts/commands';
import type { RedisCaller } from '../store/redis-caller';
import type { RedisClient } from '../types';
import { backoffDelay } from '../util/backoff';
import { toError } from '../util/events';

/**
 * The initialisation lock: spares the database a stampede when a figure is
 * missing, and keeps reconcile's reset from meeting a load. It is an
 * efficiency lock (one Redis node is enough): correctness comes from the
 * figure being written with SET NX, so two holders (after an expiry) can
 * never overwrite a figure.
 *
 * Owned by a random token and released by compare-and-delete, so a caller
 * only ever frees a lock it holds.
 */
export class InitLock {
  constructor(
    private readonly redis: RedisClient,
    private readonly commands: StockCommands,
    private readonly caller: RedisCaller,
    private readonly ttlMs: number,
  ) {}

  /** The owner's token when acquired, `null` when another caller holds it. */
  async tryAcquire(lockKey: string): Promise<string | null> {
    const token = randomBytes(16).toString('hex');
    const reply = await this.caller.run(() => this.redis.set(lockKey, token, 'PX', this.ttlMs, 'NX'));
    return reply === 'OK' ? token : null;
  }

  /** Waits (jittered backoff) up to `ms` for the lock; a 503 after that. */
  async acquireWithin(lockKey: string, ms: number): Promise<string> {
    const deadline = Date.now() + ms;
    for (let attempt = 0; ; attempt++) {
      const token = await this.tryAcquire(lockKey);
      if (token !== null) return token;
      const left = deadline - Date.now();
      if (left <= 0) throw unavailable('Timed out waiting for the stock lock');
      await sleep(Math.min(left, backoffDelay(attempt)));
    }
  }

  /**
   * Frees the lock if `token` still owns it, without making the caller wait:
   * a failure only keeps the next holder waiting until the lock's TTL.
   */
  releaseQuietly(lockKey: string, token: string, onError: (error: Error) => void): void {
    this.caller.run(() => this.commands.releaseLock(lockKey, token)).catch((error: unknown) => onError(toError(error)));
  }
}
