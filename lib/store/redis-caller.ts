import createError from 'http-errors';
import { isHttpError, unavailable } from '../errors';
import type { RedisClient } from '../types';
import { withDeadline } from '../util/deadline';

/** The code of a 503 for a command that was never sent: safe to retry. */
export const NOT_SENT = 'ERR_RESERVE_STOCK_NOT_CONNECTED';

// Commands sent in these states wait in ioredis's offline queue, possibly
// for ever (maxRetriesPerRequest: null). Refusing them keeps the answer fast
// and keeps a backlog of stale deductions from landing after an outage.
const DISCONNECTED = new Set(['reconnecting', 'close', 'end']);

/**
 * Sends one command with a deadline, whatever the client's retry settings,
 * and turns every Redis failure into a 503.
 */
export class RedisCaller {
  constructor(
    private readonly redis: RedisClient,
    private readonly timeoutMs: number,
  ) {}

  private readonly timedOut = () =>
    unavailable(`Redis did not answer within ${this.timeoutMs} ms`);

  async run<T>(send: () => Promise<T>, onLate?: (value: T) => void): Promise<T> {
    if (DISCONNECTED.has(this.redis.status)) {
      throw createError(503, 'Redis is not connected', { code: NOT_SENT });
    }
    try {
      return await withDeadline(send(), this.timeoutMs, this.timedOut, onLate);
    } catch (error) {
      throw isHttpError(error) ? error : unavailable('Redis failed', error);
    }
  }
}
