--[[
  Reserves stock under a hold: the hot path, one EVALSHA. Idempotent per
  hold id.

  Input:
    KEYS[1..5] figure, epoch, open, holds, settled (see includes/holds)
    ARGV[1] quantity (positive integer)
    ARGV[2] hold id, made by the caller before the call
    ARGV[3] how long the hold lasts, ms
    ARGV[4] how long a settled hold's record is kept, ms

  Output: { code, available, expiresAt, expired, written, replayed }
    code >= 0  reserved, code units left; expiresAt = the hold's expiry (ms)
    code == -1 unlimited (a hold of 0 units, so commit and release still work)
    code == -2 not enough; available = units there are; no hold
    code == -3 not initialised: load the figure, call initAndReserveHold-5
    expired: how many of the item's holds this call expired (for metrics)
    written: always 0 here (see initAndReserveHold-5)
    replayed: 1 when the hold id was known: the first answer, nothing deducted
]]
--- @include "includes/clock"
--- @include "includes/reserveUnits"
--- @include "includes/holds"
--- @include "includes/reserveHold"

return reserveHold(KEYS, ARGV[2], tonumber(ARGV[1]), tonumber(ARGV[3]), tonumber(ARGV[4]))
