--[[
  Writes a figure and starts a new epoch with it. With nx, only where no
  figure is (SET NX: a figure already written, and maybe already deducted
  from, is never overwritten; correctness rests on this, not on the
  initialisation lock). Returns true when it wrote.
]]
local function writeFigure(figureKey, epochKey, stock, ttlSeconds, epoch, nx)
  local expiry = {}
  if tonumber(ttlSeconds) > 0 then
    expiry = { 'EX', ttlSeconds }
  end
  local args = { 'SET', figureKey, stock, unpack(expiry) }
  if nx then
    args[#args + 1] = 'NX'
  end
  if not redis.call(unpack(args)) then
    return false
  end
  redis.call('SET', epochKey, epoch, unpack(expiry))
  return true
end
