--[[
  Reads an item after reaping its expired holds: the figure, and what its
  open holds keep.

  Input:
    KEYS[1..5] figure, epoch, open, holds, settled (see includes/holds)
    ARGV[1] how long a settled hold's record is kept, ms
    ARGV[2] 1 to list the open holds, 0 for the totals only

  Output: { figure, units, count, list, expired }
    figure  the stock figure, or false when absent
    units   units in open holds
    count   number of open holds
    list    flat { id, qty, expiresAt, ... } when asked, else empty
    expired how many holds this call expired (for metrics)
]]
--- @include "includes/clock"
--- @include "includes/holds"

local now = nowMs()
local expired = reapHolds(KEYS, now, tonumber(ARGV[1]))
purgeSettled(KEYS, now)
local list = {}
if ARGV[2] == '1' then
  for _, id in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
    local hold = readHold(KEYS, id)
    if hold then
      list[#list + 1] = id
      list[#list + 1] = hold.q
      list[#list + 1] = hold.x
    end
  end
end
local figure = redis.call('GET', KEYS[1])
return { figure, tonumber(redis.call('HGET', KEYS[4], UNITS) or '0'), redis.call('ZCARD', KEYS[3]), list, expired }
