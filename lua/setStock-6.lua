--[[
  Writes the figure and starts a new epoch: holds taken from an older figure
  give nothing back to this one. Over whatever is there (admin, tests), or
  with ARGV[3] = 'NX' only where no figure is (a cart's line loaded from the
  database).

  Input:
    KEYS[1..6] figure, holds, due, dueSorted, purge, quiet
               (see includes/counters)
    ARGV[1] stock (integer >= -1)
    ARGV[2] TTL in seconds (0 = none)
    ARGV[3] 'NX' to write only where no figure is, or '' to overwrite
    ARGV[4] how long a settled hold's record is kept, ms
    ARGV[5] the item's own per-customer limit (0: none), or '' to leave it
            as it is (see includes/limits)

  Output: 1 when written, 0 when a figure was there (NX)
]]
local L = {}
--- @include "includes/library"

local c = readCounters(redis.call('HGET', KEYS[2], '#'))
return L.writeFigure(KEYS, c, nowMs(), ARGV[1], tonumber(ARGV[2]), ARGV[3] == 'NX', tonumber(ARGV[4]), tonumber(ARGV[5])) and 1 or 0
