--[[
  Reconcile's repair: sets the figure to what the database says is free,
  database stock less the units in open holds, and adopts every open hold
  into the current epoch (they are all accounted for in the new figure, so
  each one's release gives its units back). Leaves an absent figure absent:
  the next load is the truth. Leaves the figure alone while a hold is in
  doubt: whether its units are in the database's figure is not known yet.

  Input:
    KEYS[1..5] figure, epoch, open, holds, settled (see includes/holds)
    ARGV[1] database stock (integer >= -1)
    ARGV[2] how long a settled hold's record is kept, ms

  Output: { before, after, expired }
    before, after  the figures, false when absent; after is false when
                   nothing was written (absent, or a hold in doubt)
    expired        how many holds this call expired (for metrics)
]]
--- @include "includes/clock"
--- @include "includes/holds"

local expired = reapHolds(KEYS, nowMs(), tonumber(ARGV[2]))
local before = redis.call('GET', KEYS[1])
if not before or redis.call('ZCOUNT', KEYS[3], '-inf', '(0') > 0 then
  return { before and tonumber(before), false, expired }
end
local database = tonumber(ARGV[1])
local after = database
if database ~= -1 then
  after = math.max(database - tonumber(redis.call('HGET', KEYS[4], UNITS) or '0'), 0)
end
redis.call('SET', KEYS[1], after, 'KEEPTTL')
local epoch = redis.call('GET', KEYS[2]) or ''
for _, id in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
  local hold = readHold(KEYS, id)
  if hold and hold.e ~= epoch then
    hold.e = epoch
    writeHold(KEYS, id, hold)
  end
end
return { tonumber(before), after, expired }
