--[[
  Reads an item after reaping its expired holds: the figure, and what its
  open holds keep.

  Input:
    KEYS[1..5] figure, epoch, open, holds, settled (see includes/holds)
    ARGV[1] how long a settled hold's record is kept, ms
    ARGV[2] which holds to list: 'all', 'in-doubt', or 'none' (totals only)

  Output: { figure, units, count, list, expired, inDoubt }
    figure  the stock figure, or false when absent
    units   units in open holds (in-doubt ones included)
    count   number of open holds
    list    flat { id, qty, expiresAt, state, ... } as asked
    expired how many holds this call expired (for metrics)
    inDoubt number of in-doubt holds
]]
--- @include "includes/clock"
--- @include "includes/holds"

local now = nowMs()
local expired = reapHolds(KEYS, now, tonumber(ARGV[1]))
purgeSettled(KEYS, now)
local ids = {}
if ARGV[2] == 'all' then
  ids = redis.call('ZRANGE', KEYS[3], 0, -1)
elseif ARGV[2] == 'in-doubt' then
  ids = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', '(0')
end
local list = {}
for _, id in ipairs(ids) do
  local hold = readHold(KEYS, id)
  if hold then
    list[#list + 1] = id
    list[#list + 1] = hold.q
    list[#list + 1] = hold.x
    list[#list + 1] = hold.s
  end
end
local figure = redis.call('GET', KEYS[1])
local units = tonumber(redis.call('HGET', KEYS[4], UNITS) or '0')
local inDoubt = redis.call('ZCOUNT', KEYS[3], '-inf', '(0')
return { figure, units, redis.call('ZCARD', KEYS[3]), list, expired, inDoubt }
