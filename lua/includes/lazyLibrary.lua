--[[
  The library of the hot scripts (reserveHold-6, settleHold-6), built on
  first use, after their quick paths: every Lua closure a script makes
  costs Redis time on every call, and the quick paths need none.
]]
local L
local function library()
  if not L then
    L = {}
--- @include "includes/reserve"
--- @include "includes/settleOne"
  end
  return L
end
