--[[
  Adds a restock to a loaded figure, once every due hold's units are back
  (the answer is the figure getStock would read). An absent figure is left
  absent: the next load from the database is the truth, and writing a
  partial figure here would understate it.

  Input:
    KEYS[1..6] figure, holds, due, dueSorted, purge, quiet
               (see includes/counters)
    ARGV[1] quantity to add (positive integer)
    ARGV[2] how long a settled hold's record is kept, ms
    ARGV[3] the largest figure allowed: the figure and the units in open
            holds (which may come back to it) stay below it

  Output: { status, stock, expired }
    status 'added' (stock: the new figure), 'unlimited' (-1, unchanged),
           'absent', 'again' (due holds left to reap: nothing added, call
           again) or 'over' (the sum would pass ARGV[3]: nothing added)
    expired how many holds this call expired (for metrics)
]]
local L = {}
--- @include "includes/library"

local qty, retentionMs, max = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local c, now, expired = L.tidy(KEYS, retentionMs)
if L.isDue(c, now) then
  return { 'again', false, expired }
end
local raw = redis.call('GET', KEYS[1])
if not raw then
  return { 'absent', false, expired }
end
local stock = tonumber(raw)
if stock == -1 then
  return { 'unlimited', -1, expired }
end
if stock + c.u + qty > max then
  return { 'over', stock, expired }
end
return { 'added', redis.call('INCRBY', KEYS[1], qty), expired }
