/**
 * The seed article's stock script (/work/shared/reference/seed-article.txt),
 * as published: EXISTS, GET, then INCRBY of -num when there is enough;
 * answers the units left, -1 unlimited, -2 not enough, -3 not initialised.
 * No hold, no expiry, no idempotency: the floor the hold scripts are
 * measured against.
 */
import type { Redis } from 'ioredis';

const SEED_LUA = `if (redis.call('exists', KEYS[1]) == 1) then
    local stock = tonumber(redis.call('get', KEYS[1]));
    local num = tonumber(ARGV[1]);
    if (stock == -1) then
        return -1;
    end;
    if (stock >= num) then
        return redis.call('incrby', KEYS[1], 0 - num);
    end;
    return -2;
end;
return -3;`;

/** The script's refusals (its other answers are the units left, or -1: unlimited). */
export const SEED_NOT_ENOUGH = -2;
export const SEED_NOT_INITIALISED = -3;

/**
 * The script as an ioredis command on `redis` (defineCommand: EVALSHA, EVAL
 * when the connection has not sent it yet or Redis answers NOSCRIPT), the
 * way the article calls it: takes `qty` units of the figure at `key`.
 */
export function seedStockCommand(redis: Redis): (key: string, qty: number) => Promise<number> {
  redis.defineCommand('seedStock', { numberOfKeys: 1, lua: SEED_LUA });
  const commands = redis as unknown as { seedStock(key: string, qty: number): Promise<number> };
  return (key, qty) => commands.seedStock(key, qty);
}
