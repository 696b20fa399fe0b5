--[[
  Sets an item's own per-customer limit (see includes/limits), leaving its
  figure and holds as they are: holds counted before stay counted, and a
  limit of 0 stops counting new ones.

  Input:
    KEYS[1..6] figure, holds, due, dueSorted, purge, quiet
               (see includes/counters)
    ARGV[1] the limit (a whole number; 0: none)
    ARGV[2] how long a settled hold's record is kept, ms

  Output: the limit before (0: none)
]]
local L = {}
--- @include "includes/library"

local c = readCounters(redis.call('HGET', KEYS[2], '#'))
local before = c.k
c.k = tonumber(ARGV[1])
local now = nowMs()
L.keepCounters(KEYS, c, now, now + tonumber(ARGV[2]))
return before
