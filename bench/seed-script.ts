/**
 * The seed article's stock script (/work/shared/reference/seed-article.txt),
 * as published: EXISTS, GET, then INCRBY of -num when there is enough;
 * answers the units left, -1 unlimited, -2 not enough, -3 not initialised.
 * No hold, no expiry, no idempotency: the floor the hold scripts are
 * measured against.
 */
export const SEED_LUA = `if (redis.call('exists', KEYS[1]) == 1) then
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
