--[[
  Adds a restock to a loaded figure, after giving back the units of expired
  holds (so the answer is the figure getStock would read). An absent figure
  is left absent: the next load from the database is the truth, and writing
  a partial figure here would understate it.

  Input:
    KEYS[1..5] figure, epoch, open, holds, settled (see includes/holds)
    ARGV[1] quantity to add (positive integer)
    ARGV[2] how long a settled hold's record is kept, ms

  Output: { stock, expired }
    stock   the new stock; -1 when unlimited (unchanged); nil when absent
    expired how many holds this call expired (for metrics)
]]
--- @include "includes/clock"
--- @include "includes/holds"

local expired = reapHolds(KEYS, nowMs(), tonumber(ARGV[2]))
local raw = redis.call('GET', KEYS[1])
if not raw then
  return { false, expired }
end
if tonumber(raw) == -1 then
  return { -1, expired }
end
return { redis.call('INCRBY', KEYS[1], ARGV[1]), expired }
