--[[
  Gives units back (rollback) or adds a restock to a loaded figure.
  An absent figure is left absent: the next load from the database is the
  truth, and writing a partial figure here would understate it.

  Input:
    KEYS[1] stock key
    ARGV[1] quantity to add (positive integer)

  Output:
    the new stock; -1 when unlimited (unchanged); nil when the key is absent
]]
local raw = redis.call('GET', KEYS[1])
if not raw then
  return false
end
if tonumber(raw) == -1 then
  return -1
end
return redis.call('INCRBY', KEYS[1], ARGV[1])
