--[[
  Commits or releases a hold. Exactly one of commit, release and expiry
  wins: a hold whose time has come is expired first, and a settled hold is
  never settled again, so a resent call changes nothing.

  Input:
    KEYS[1..5] figure, epoch, open, holds, settled (see includes/holds)
    ARGV[1] hold id
    ARGV[2] 'commit' or 'release'
    ARGV[3] how long a settled hold's record is kept, ms

  Output: { state, changed, expired }
    state   the hold's state after the call: 'committed', 'released',
            'expired', or 'unknown' (no such hold, or forgotten)
    changed 1 when this call settled it, 0 when it was settled before
    expired how many of the item's holds this call expired (for metrics)
]]
--- @include "includes/clock"
--- @include "includes/holds"

local now = nowMs()
local retentionMs = tonumber(ARGV[3])
local expired = reapHolds(KEYS, now, retentionMs)
purgeSettled(KEYS, now)
local hold, settled = openHoldOr(KEYS, ARGV[1], expired)
if not hold then
  return settled
end
local state = ARGV[2] == 'commit' and 'committed' or 'released'
settleHold(KEYS, ARGV[1], hold, state, now, retentionMs)
return { state, 1, expired }
