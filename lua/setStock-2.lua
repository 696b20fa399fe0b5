--[[
  Writes the figure over whatever is there (admin, tests) and starts a new
  epoch: holds taken from the old figure give nothing back to this one.

  Input:
    KEYS[1] figure
    KEYS[2] epoch
    ARGV[1] stock (integer >= -1)
    ARGV[2] TTL in seconds (0 = none)
    ARGV[3] the new epoch (random, made by the caller)

  Output: 'OK'
]]
if tonumber(ARGV[2]) > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
  redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[1])
  redis.call('SET', KEYS[2], ARGV[3])
end
return 'OK'
