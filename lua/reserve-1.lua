--[[
  Checks and deducts stock in one atomic step: the hot path, one EVALSHA.

  Input:
    KEYS[1] stock key
    ARGV[1] quantity (positive integer, validated by the caller)

  Output: { code, available }
    code >= 0  reserved, code units left
    code == -1 unlimited
    code == -2 not enough; available = units there are
    code == -3 not initialised: load the figure and call initAndReserve-1
]]
--- @include "includes/reserveUnits"

return reserveUnits(KEYS[1], tonumber(ARGV[1]))
