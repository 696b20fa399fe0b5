--[[
  Reserves stock under a hold: the hot path, one EVALSHA. Idempotent per
  hold nonce.

  Most answers of a flash sale are refusals: those come first, before any
  function is made (each Lua closure a script makes costs Redis time on
  every call), with as few calls as the article's script makes: the
  figure, the quiet key (no open hold due, see includes/open) and whether
  the nonce is new.

  Input:
    KEYS[1..6] figure, holds, due, dueSorted, purge, quiet (see
               includes/counters)
    ARGV[1] quantity (positive integer)
    ARGV[2] the hold's nonce (the hold id's first part, made by the caller)
    ARGV[3] how long the hold lasts, ms
    ARGV[4] how long a settled hold's record is kept, ms

  Output: { code, available, expiresAt, expired, replayed }, trailing
  zeros left out
    code >= 0  reserved, code units left; expiresAt = the hold's expiry (ms)
    code == -1 unlimited (a hold of 0 units, so commit and release still work)
    code == -2 not enough; available = units there are; no hold
    code == -3 not initialised: load the figure, call initAndReserveHold-6
    code == -4 not enough yet, and more due holds to reap: call again
    expired: how many of the item's holds this call expired (for metrics)
    replayed: 1 when the nonce was known: the first answer, nothing deducted
]]
--- @include "includes/codes"

local raw = redis.call('GET', KEYS[1])
local stock, qty = tonumber(raw), tonumber(ARGV[1])
if stock and stock >= 0 and stock < qty and stock % 1 == 0
  and redis.call('EXISTS', KEYS[6]) == 1 and redis.call('HEXISTS', KEYS[2], ARGV[2]) == 0 then
  return { INSUFFICIENT, stock }
end

--- @include "includes/clock"
--- @include "includes/open"

local L = {}
local function library()
--- @include "includes/library"
  return L
end
--- @include "includes/reserve"

return reserveOne(KEYS, ARGV[2], qty, tonumber(ARGV[3]), tonumber(ARGV[4]), raw)
