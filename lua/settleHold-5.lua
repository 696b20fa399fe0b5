--[[
  Prepares, commits or releases a hold. Exactly one of commit, release and
  expiry wins: a hold whose time has come is expired first (or, prepared,
  turns in-doubt), and a settled hold is never settled again, so a resent
  call changes nothing.

  'prepare' is phase one of a commit, sent inside the order's database
  transaction just before it commits: from then on the hold's expiry no
  longer gives its units back (it turns the hold in-doubt instead), so an
  order whose process died between the database commit and the hold's
  commit never leaves its units for sale twice. Only a 'held' hold can be
  prepared; a resent prepare finds it 'prepared' and changes nothing.

  Input:
    KEYS[1..5] figure, epoch, open, holds, settled (see includes/holds)
    ARGV[1] hold id
    ARGV[2] 'prepare', 'commit' or 'release'
    ARGV[3] how long a settled hold's record is kept, ms

  Output: { state, changed, expired }
    state   the hold's state after the call: 'prepared', 'in-doubt',
            'committed', 'released', 'expired', or 'unknown' (no such
            hold, or forgotten)
    changed 1 when this call moved it, 0 when it was there before
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
if ARGV[2] == 'prepare' then
  if hold.s ~= 'held' then
    return { hold.s, 0, expired }
  end
  hold.s = 'prepared'
  writeHold(KEYS, ARGV[1], hold)
  return { 'prepared', 1, expired }
end
local state = ARGV[2] == 'commit' and 'committed' or 'released'
settleHold(KEYS, ARGV[1], hold, state, now, retentionMs)
return { state, 1, expired }
