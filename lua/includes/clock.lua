--[[
  Redis's own clock, in milliseconds: every app process agrees on it, so a
  hold's expiry does not depend on whose clock is right.
]]
local function nowMs()
  local t = redis.call('TIME')
  return t[1] * 1000 + math.floor(t[2] / 1000)
end
