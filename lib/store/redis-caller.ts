import createError from 'http-errors';
import { isHttpError, unavailable } from '../errors';
import type { RedisClient } from '../types';
import { DeadlineQueue } from '../util/deadline-queue';
import { CoalescedWrites } from './coalesced-writes';

/** The code of a 503 for a command that was never sent: safe to retry. */
export const NOT_SENT = 'ERR_RESERVE_STOCK_NOT_CONNECTED';

// Commands sent in these states wait in ioredis's offline queue, possibly
// for ever (maxRetriesPerRequest: null). Refusing them keeps the answer fast
// and keeps a backlog of stale deductions from landing after an outage.
const DISCONNECTED = new Set(['reconnecting', 'close', 'end']);

/**
 * Sends one command with a deadline, whatever the client's retry settings,
 * and turns every Redis failure into a 503. A command that answers after its
 * deadline hands its value to `onLate`: it may still have run. Of the
 * commands sent in one turn of the event loop, all but the first share one
 * socket write (./coalesced-writes).
 */
export class RedisCaller {
  private readonly deadlines: DeadlineQueue;
  private readonly writes: CoalescedWrites;

  constructor(
    private readonly redis: RedisClient,
    private readonly timeoutMs: number,
  ) {
    this.deadlines = new DeadlineQueue(timeoutMs);
    this.writes = new CoalescedWrites(redis);
  }

  run<T>(send: () => Promise<T>, onLate?: (value: T) => void): Promise<T> {
    if (DISCONNECTED.has(this.redis.status)) {
      return Promise.reject(createError(503, 'Redis is not connected', { code: NOT_SENT }));
    }
    return new Promise<T>((resolve, reject) => {
      const settle = this.deadlines.add(() => reject(unavailable(`Redis did not answer within ${this.timeoutMs} ms`)));
      let sent: Promise<T>;
      this.writes.hold();
      try {
        sent = send();
      } catch (error) {
        settle();
        reject(unavailable('Redis failed', error));
        return;
      }
      sent.then(
        (value) => {
          if (settle()) resolve(value);
          else onLate?.(value);
        },
        (error: unknown) => {
          if (settle()) reject(isHttpError(error) ? error : unavailable('Redis failed', error));
        },
      );
    });
  }
}
