--[[
  Prepares, commits or releases a hold. Exactly one of commit, release and
  expiry wins: a hold whose time has come falls due first (a held one
  expires, a prepared one turns in-doubt), and a settled hold is never
  settled again, so a resent call changes nothing. Only this hold is
  looked at: other due holds are left to the calls that read the figure.

  'prepare' is phase one of a commit, sent inside the order's database
  transaction just before it commits: from then on the hold's expiry no
  longer gives its units back (it turns the hold in-doubt instead), so an
  order whose process died between the database commit and the hold's
  commit never leaves its units for sale twice. Only a 'held' hold can be
  prepared; a resent prepare finds it 'prepared' and changes nothing.

  Input:
    KEYS[1..6] figure, holds, due, dueSorted, purge, quiet (see
               includes/counters)
    ARGV[1] the hold's nonce
    ARGV[2] 'prepare', 'commit' or 'release'
    ARGV[3] how long a settled hold's record is kept, ms

  Output: { state, changed, expired }
    state   the hold's state after the call, as its letter (see
            includes/records): p, d, c, r, x, or '?' (no such hold, or
            forgotten)
    changed 1 when this call moved it, 0 when it was there before
    expired 1 when this call expired the hold itself (for metrics)
]]
--- @include "includes/clock"
--- @include "includes/settle"

local L = {}
local function library()
--- @include "includes/library"
  return L
end

local id, action, retentionMs = ARGV[1], ARGV[2], tonumber(ARGV[3])
local got = redis.call('HMGET', KEYS[2], id, '#')
if not got[1] then
  return { '?', 0, 0 }
end
local hold = decodeHold(got[1])
if not isOpen(hold) then
  return { hold.s, 0, 0 }
end
local c = readCounters(got[2])
local now = nowMs()
local purgeAt = now + retentionMs
local purges = {}
local record
local owed, expired, changed = 0, 0, 0
if hold.s ~= 'd' and hold.x <= now then
  -- Its time came first: it falls due now.
  if hold.s == 'h' then
    record, owed = closeHold(KEYS, c, id, hold, 'x', purgeAt, purges)
    expired = 1
  else
    record = toInDoubt(KEYS, c, id, hold)
  end
end
if action == 'prepare' then
  if hold.s == 'h' then
    hold.s = 'p'
    c.m = c.m + 1
    record = encodeHold(hold)
    changed = 1
  end
elseif isOpen(hold) then
  record, owed = closeHold(KEYS, c, id, hold, action == 'commit' and 'c' or 'r', purgeAt, purges)
  changed = 1
end
if not record then
  return { hold.s, 0, 0 }
end
if owed > 0 then
  giveBack(KEYS, owed)
end
if c.p ~= 0 and c.p <= now then
  library().purge(KEYS, c, now)
end
writeHolds(KEYS, c, now, id, record, purges)
local need = #purges > 0 and purgeAt or now
if needsLife(c, need) then
  library().keepAlive(KEYS, c, now, need)
end
return { hold.s, changed, expired }
