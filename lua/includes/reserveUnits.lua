--[[
  Shared by reserve-1 and initAndReserve-1: the check-and-deduct step.

  Reads the figure with GET (not EXISTS + GET) so a reservation is one read
  and at most one write. DECRBY keeps the key's TTL.

  Returns a table { code, available }:
    code >= 0  reserved; code is the stock left, available == code
    code == -1 unlimited stock, nothing deducted; available == -1
    code == -2 not enough; available is the stock there is (never below 0)
    code == -3 not initialised (key absent); available == 0
]]
local function reserveUnits(stockKey, qty)
  local raw = redis.call('GET', stockKey)
  if not raw then
    return { -3, 0 }
  end
  local stock = tonumber(raw)
  if stock == nil or stock ~= math.floor(stock) then
    return redis.error_reply('ERR reserve-stock: ' .. stockKey .. ' does not hold an integer')
  end
  if stock == -1 then
    return { -1, -1 }
  end
  if stock >= qty then
    local remaining = redis.call('DECRBY', stockKey, qty)
    return { remaining, remaining }
  end
  return { -2, math.max(stock, 0) }
end
