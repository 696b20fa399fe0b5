--[[
  Writes the figure loaded from the database, only if no figure is there
  (SET NX: a figure already written, and maybe already deducted from, is
  never overwritten), then reserves against whatever figure now stands.
  Correctness rests on the NX here, not on the initialisation lock.

  Input:
    KEYS[1] stock key
    ARGV[1] stock loaded from the source of truth (integer >= -1)
    ARGV[2] TTL in seconds (0 = no expiry)
    ARGV[3] quantity to reserve (positive integer)

  Output: { code, available, written }
    code, available as in reserve-1
    written 1 when this call wrote the figure, 0 when one was already there
]]
--- @include "includes/reserveUnits"

local written
if tonumber(ARGV[2]) > 0 then
  written = redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2], 'NX')
else
  written = redis.call('SET', KEYS[1], ARGV[1], 'NX')
end

local reply = reserveUnits(KEYS[1], tonumber(ARGV[3]))
reply[3] = written and 1 or 0
return reply
