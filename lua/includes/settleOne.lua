--[[
  Prepares, commits or releases a hold: the general path of settleHold-6
  (see it for the rules), after its quick answers. `got` is HMGET holds id
  '#', when the caller read it already. Returns { state, changed, expired }.
]]
--- @include "includes/library"

function L.settleOne(keys, id, action, retentionMs, got)
  got = got or redis.call('HMGET', keys[2], id, '#')
  if not got[1] then
    return { '?', 0, 0 }
  end
  local hold = decodeHold(got[1])
  if not isOpen(hold) then
    return { hold.s, 0, 0 }
  end
  local c = readCounters(got[2])
  local now = nowMs()
  local purgeAt = now + retentionMs
  local purges = {}
  local record
  local owed, expired, changed = 0, 0, 0
  if hold.s ~= 'd' and hold.x <= now then
    -- Its time came first: it falls due now.
    if hold.s == 'h' then
      record, owed = closeHold(keys, c, id, hold, 'x', purgeAt, purges)
      expired = 1
    else
      record = toInDoubt(keys, c, id, hold)
    end
  end
  if action == 'prepare' then
    if hold.s == 'h' then
      hold.s = 'p'
      c.m = c.m + 1
      c.g = c.g + 1
      record = encodeHold(hold)
      changed = 1
    end
  elseif isOpen(hold) then
    record, owed = closeHold(keys, c, id, hold, action == 'commit' and 'c' or 'r', purgeAt, purges)
    changed = 1
  end
  if not record then
    return { hold.s, 0, 0 }
  end
  if owed > 0 then
    giveBack(keys, owed)
  end
  if c.p ~= 0 and c.p <= now then
    L.purge(keys, c, now)
  end
  writeHolds(keys, c, now, id, record, purges)
  local need = #purges > 0 and purgeAt or now
  if needsLife(c, need) then
    L.keepAlive(keys, c, now, need)
  end
  return { hold.s, changed, expired }
end
