--[[
  Settling holds: the steps of every commit, release and expiry (see
  includes/counters for the layout). They change the counters `c` in
  place; the caller writes them back with writeHolds (includes/open).
]]
--- @include "includes/open"
--- @include "includes/records"
--- @include "includes/limits"

--[[
  Settles an open hold: 'c' committed keeps its units, 'r' released and 'x'
  expired give them back, to the figure they were taken from only (epoch at
  least a), and to the customer's count. Its record is kept until
  `purgeAt`: the ticket goes on `purges`. Returns the new record and the
  units owed to the figure.
]]
local function closeHold(keys, c, id, hold, state, purgeAt, purges)
  local owed = 0
  if state ~= 'c' then
    if hold.e >= c.a then
      owed = hold.q
    end
    uncount(keys, hold)
  end
  if hold.s == 'p' then
    c.m = c.m - 1
  elseif hold.s == 'd' then
    redis.call('ZREM', keys[4], id)
  end
  c.n = c.n - 1
  c.u = c.u - hold.q
  hold.s = state
  purges[#purges + 1] = ticket(purgeAt, id)
  if c.p == 0 then
    c.p = purgeAt
  end
  return encodeHold(hold), owed
end

-- A prepared hold whose time came: it keeps its units until the database says.
local function toInDoubt(keys, c, id, hold)
  hold.s = 'd'
  c.m = c.m - 1
  redis.call('ZADD', keys[4], -hold.x, id)
  if c.l > 0 then
    redis.call('PEXPIREAT', keys[4], c.l)
  end
  return encodeHold(hold)
end

--[[
  Gives `owed` units back to the figure: not to an absent figure (the next
  load from the database is the truth), not to unlimited stock. Returns the
  figure after (nil when absent).
]]
local function giveBack(keys, owed)
  local stock = tonumber(redis.call('GET', keys[1]))
  if owed > 0 and stock and stock ~= -1 then
    return redis.call('INCRBY', keys[1], owed)
  end
  return stock
end
