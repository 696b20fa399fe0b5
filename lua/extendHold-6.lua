--[[
  Extends an open hold so that it lasts at least ARGV[2] ms from now (a
  payment that takes longer than planned keeps its units). A hold that has
  expired, was committed or released, or is in doubt (only the database
  can settle it) is left as it is. The hold's old ticket stays queued and
  is dropped when its turn comes (its record then falls due later).

  Input:
    KEYS[1..6] figure, holds, due, dueSorted, purge, quiet
               (see includes/counters)
    ARGV[1] the hold's nonce
    ARGV[2] ms from now
    ARGV[3] how long a settled hold's record is kept, ms

  Output: { state, expiresAt, expired }
    state h or p (see includes/records) with the new expiry (ms), or the
    state that kept it from being extended (d, c, r, x, or '?' unknown)
    with 0;
    expired: 1 when this call expired the hold itself (for metrics)
]]
local L = {}
--- @include "includes/library"

local id, retentionMs = ARGV[1], tonumber(ARGV[3])
local got = redis.call('HMGET', KEYS[2], id, '#')
if not got[1] then
  return { '?', 0, 0 }
end
local hold = decodeHold(got[1])
if hold.s ~= 'h' and hold.s ~= 'p' then
  return { hold.s, 0, 0 }
end
local c = readCounters(got[2])
local now = nowMs()
if hold.x <= now then
  -- Its time came first: it falls due now, and is not extended.
  local purges, record, owed = {}, nil, 0
  local purgeAt = now + retentionMs
  if hold.s == 'h' then
    record, owed = closeHold(KEYS, c, id, hold, 'x', purgeAt, purges)
    giveBack(KEYS, owed)
  else
    record = toInDoubt(KEYS, c, id, hold)
  end
  writeHolds(KEYS, c, now, id, record, purges)
  if needsLife(c, purgeAt) then
    L.keepAlive(KEYS, c, now, purgeAt)
  end
  return { hold.s, 0, hold.s == 'x' and 1 or 0 }
end
local at = now + tonumber(ARGV[2])
if at > hold.x then
  hold.x = at
  queueTicket(KEYS, c, id, at)
  writeHolds(KEYS, c, now, id, encodeHold(hold))
  if needsLife(c, at, at) then
    L.keepAlive(KEYS, c, now, at, at)
  end
end
return { hold.s, hold.x, 0 }
