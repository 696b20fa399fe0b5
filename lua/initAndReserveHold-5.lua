--[[
  Writes the figure loaded from the database, only if no figure is there
  (see includes/writeFigure), starts a new epoch with it, then reserves
  under a hold against whatever figure now stands.

  Input:
    KEYS[1..5] figure, epoch, open, holds, settled (see includes/holds)
    ARGV[1] stock loaded from the source of truth (integer >= -1)
    ARGV[2] TTL of the figure in seconds (0 = none)
    ARGV[3] quantity (positive integer)
    ARGV[4] hold id
    ARGV[5] how long the hold lasts, ms
    ARGV[6] how long a settled hold's record is kept, ms
    ARGV[7] the new epoch (random, made by the caller)

  Output: { code, available, expiresAt, expired, written, replayed }
    as reserveHold-5; written = 1 when this call wrote the figure
]]
--- @include "includes/clock"
--- @include "includes/reserveUnits"
--- @include "includes/holds"
--- @include "includes/reserveHold"
--- @include "includes/writeFigure"

local written = writeFigure(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[7], true)

local reply = reserveHold(KEYS, ARGV[4], tonumber(ARGV[3]), tonumber(ARGV[5]), tonumber(ARGV[6]))
reply[5] = written and 1 or 0
return reply
