--[[
  Extends an open hold so that it lasts at least ARGV[2] ms from now (a
  payment that takes longer than planned keeps its units). A hold that has
  expired, was committed or released, or is in doubt (only the database
  can settle it) is left as it is.

  Input:
    KEYS[1..5] figure, epoch, open, holds, settled (see includes/holds)
    ARGV[1] hold id
    ARGV[2] ms from now
    ARGV[3] how long a settled hold's record is kept, ms

  Output: { state, expiresAt, expired }
    state 'held' or 'prepared' with the new expiry (ms), or the state that
    kept it from being extended ('in-doubt', 'committed', 'released',
    'expired', 'unknown') with 0;
    expired: how many of the item's holds this call expired (for metrics)
]]
--- @include "includes/clock"
--- @include "includes/holds"

local now = nowMs()
local expired = reapHolds(KEYS, now, tonumber(ARGV[3]))
local hold, settled = openHoldOr(KEYS, ARGV[1], expired)
if not hold then
  return settled
end
if hold.s == 'in-doubt' then
  return { hold.s, 0, expired }
end
local expiresAt = math.max(hold.x, now + tonumber(ARGV[2]))
hold.x = expiresAt
writeHold(KEYS, ARGV[1], hold)
redis.call('ZADD', KEYS[3], expiresAt, ARGV[1])
keepFigureFor(KEYS, expiresAt - now)
return { hold.s, expiresAt, expired }
