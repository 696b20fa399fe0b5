--[[
  Compare-and-delete: frees the initialisation lock only for its owner, so a
  caller whose lock expired never frees a lock that another caller now holds.

  Input:
    KEYS[1] lock key
    ARGV[1] the owner's random token

  Output: 1 when released, 0 when the lock was not ours (expired or taken)
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
