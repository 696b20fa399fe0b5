--[[
  Per-customer limits, checked and counted in the same script as the
  deduction: the holds hash (KEYS[2], see includes/counters) counts each
  customer's units of the item in open holds and committed ones, under the
  customer's digest, beside the records: read and written by the calls that
  read and write the hold's record, so that a limit costs the hot path no
  call of its own, and living and expiring with them. A hold counted toward
  a limit keeps its customer and units in its record (see
  includes/records), so that its release or expiry gives them back, exactly
  once with the hold; a commit keeps them counted, an in-doubt hold too
  until resolved. Holds are counted only while a limit applies.
]]

-- The limit for `who` (nil: no customer): the call's `limit`, else the
-- item's own (c.k); 0 when none applies.
local function limitFor(c, who, limit)
  if not who then
    return 0
  end
  return limit or c.k
end

-- The units `who` has counted, when `qty` more would take them past `limit`; else nil.
local function overLimit(keys, who, qty, limit)
  if limit <= 0 then
    return nil
  end
  local bought = tonumber(redis.call('HGET', keys[2], who)) or 0
  if bought + qty > limit then
    return bought
  end
  return nil
end

-- Counts `units` toward `who`.
local function countToward(keys, who, units)
  redis.call('HINCRBY', keys[2], who, units)
end

-- Gives a released or expired hold's units back to its customer's count.
local function uncount(keys, hold)
  if hold.who and redis.call('HINCRBY', keys[2], hold.who, -hold.w) <= 0 then
    redis.call('HDEL', keys[2], hold.who)
  end
end
