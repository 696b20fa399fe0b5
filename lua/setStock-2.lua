--[[
  Writes the figure and starts a new epoch: holds taken from an older figure
  give nothing back to this one. Over whatever is there (admin, tests), or
  with ARGV[4] = 'NX' only where no figure is (a cart's line loaded from the
  database).

  Input:
    KEYS[1] figure
    KEYS[2] epoch
    ARGV[1] stock (integer >= -1)
    ARGV[2] TTL in seconds (0 = none)
    ARGV[3] the new epoch (random, made by the caller)
    ARGV[4] 'NX' to write only where no figure is, or '' to overwrite

  Output: 1 when written, 0 when a figure was there (NX)
]]
--- @include "includes/writeFigure"

return writeFigure(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4] == 'NX') and 1 or 0
