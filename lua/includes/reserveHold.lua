--[[
  The reserve step of reserveHold-5 and initAndReserveHold-5. Needs the
  clock, reserveUnits and holds includes before it.
]]
--[[
  Reserves `qty` under hold `id`, once per id: a resent call (ioredis resends
  what was in flight when a connection dropped) gets the first answer back
  instead of deducting again. Returns { code, available, expiresAt, expired,
  written, replayed }: expired, how many holds of the item this call expired;
  written, 0 (initAndReserveHold-5 sets it); replayed, 1 when the id was known.
]]
local function reserveHold(keys, id, qty, holdMs, retentionMs)
  local now = nowMs()
  local known = readHold(keys, id)
  if known then
    return { known.r, known.a, known.x, 0, 0, 1 }
  end
  local expired = reapHolds(keys, now, retentionMs)
  local reply = reserveUnits(keys[1], qty)
  local code = reply[1]
  if code >= 0 then
    reply[3] = openHold(keys, id, qty, code, reply[2], now, holdMs)
  elseif code == -1 then
    reply[3] = openHold(keys, id, 0, code, reply[2], now, holdMs)
  else
    reply[3] = 0
  end
  reply[4] = expired
  reply[5] = 0
  reply[6] = 0
  return reply
end
