--[[
  Reserving one item under a hold: the general path of reserveHold-6 (after
  its quick answers) and initAndReserveHold-6's; a cart's lines' figures.
]]
--- @include "includes/library"
--- @include "includes/limits"

-- The figure from its GET reply: a number, or nil when absent; an error
-- reply for anything that is not a stock figure.
function L.figureOf(key, raw)
  if not raw then
    return nil
  end
  local stock = tonumber(raw)
  if not stock or stock % 1 ~= 0 or stock < -1 then
    error({ err = 'ERR reserve-stock: ' .. key .. ' does not hold a stock figure' })
  end
  return stock
end

--[[
  Reserves `qty` units under hold `id`, once per nonce: a resent call
  (ioredis resends what was in flight when a connection dropped) gets the
  first answer back and deducts nothing. `raw` is the figure's GET reply;
  `got`, HMGET holds id '#', when the caller read it already. `who` (nil:
  none) is the customer, `limit` the call's own limit (nil: the item's):
  a grant that would take the customer past it is refused (LIMIT) and
  deducts nothing (see includes/limits).

  A refusal must first see every due hold's units back: with no open hold
  due, it is answered at once; else it reaps a batch, and answers
  CALL_AGAIN while more are due. A grant needs no reaping first: while due
  holds wait, the figure only under-states, which never oversells (it reaps
  a batch anyway, if one is due, so that steady sales keep up with expiry).

  Returns { code, available, expiresAt, expired, replayed }, trailing zeros
  left out, or { LIMIT, bought, limit, expired }: see reserveHold-6.
]]
function L.reserveOne(keys, id, qty, holdMs, retentionMs, raw, got, who, limit)
  got = got or redis.call('HMGET', keys[2], id, '#')
  if got[1] then
    return L.replay(got[1])
  end
  local stock = L.figureOf(keys[1], raw)
  if stock == nil then
    return { NOT_INITIALISED, 0 }
  end
  local c = readCounters(got[2])
  local now = nowMs()
  local expired = 0
  local due = c.d ~= 0 and c.d <= now
  if stock ~= UNLIMITED and stock < qty then
    local reaping = c.n > 0 and due
    if reaping then
      expired, stock = L.reap(keys, c, now, retentionMs)
    end
    if stock < qty then
      if reaping then
        writeHolds(keys, c, now)
      end
      -- The quiet key was missing, or this would not run: it is due back.
      L.markQuiet(keys, c, now)
      return { reaping and L.isDue(c, now) and CALL_AGAIN or INSUFFICIENT, stock, 0, expired }
    end
  elseif due then
    expired, stock = L.reap(keys, c, now, retentionMs)
  end
  if c.p ~= 0 and c.p <= now then
    L.purge(keys, c, now)
  end
  local limited = limitFor(c, who, limit)
  local bought = overLimit(keys, who, qty, limited)
  if bought then
    -- What reaping or purging changed.
    writeHolds(keys, c, now)
    return { LIMIT, bought, limited, expired }
  end
  local code, taken = UNLIMITED, 0
  if stock ~= UNLIMITED then
    code = redis.call('DECRBY', keys[1], qty)
    taken = qty
  end
  local at = now + holdMs
  local counted = limited > 0 and who or nil
  writeHolds(keys, c, now, id, openHold(keys, c, id, taken, code, at, counted, qty))
  if counted then
    countToward(keys, who, qty)
  end
  if needsLife(c, at, at) then
    L.keepAlive(keys, c, now, at, at)
  end
  return { code, code, at, expired }
end
