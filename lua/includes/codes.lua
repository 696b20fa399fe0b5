--[[
  The reserve scripts' answer codes (lib/scripts/replies.ts names the same
  numbers; a test keeps the two in step). A code >= 0 is a reservation: the
  units left.
]]
local UNLIMITED = -1       -- unlimited stock: nothing deducted, a hold of 0 units
local INSUFFICIENT = -2    -- not enough: nothing deducted
local NOT_INITIALISED = -3 -- no figure: load it, then call the init script
local CALL_AGAIN = -4      -- not enough yet, but due holds are left to reap first: call again
local LIMIT = -5           -- the customer would pass their limit: nothing deducted
