--[[
  Reserving one item under a hold (reserveHold-5, initAndReserveHold-5,
  and a cart's lines' check).
]]
--- @include "includes/clock"
--- @include "includes/codes"
--- @include "includes/open"

-- The figure from its GET reply: a number, or nil when absent; an error
-- reply for anything that is not a stock figure.
local function figureOf(key, raw)
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
  first answer back and deducts nothing. `raw` is the figure's GET reply.

  A refusal must first see every due hold's units back: with no open hold
  due, it is answered at once; else it reaps a batch, and answers
  CALL_AGAIN while more are due. A grant needs no reaping first: while due
  holds wait, the figure only under-states, which never oversells (it reaps
  a batch anyway, if one is due, so that steady sales keep up with expiry).

  Returns { code, available, expiresAt, expired, replayed }, trailing zeros
  left out: see reserveHold-5.
]]
local function reserveOne(keys, id, qty, holdMs, retentionMs, raw)
  local got = redis.call('HMGET', keys[2], id, '#')
  if got[1] then
    local known = decodeHold(got[1])
    return { known.r, known.r, known.x, 0, 1 }
  end
  local stock = figureOf(keys[1], raw)
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
      expired, stock = library().reap(keys, c, now, retentionMs)
    end
    if stock < qty then
      if reaping then
        writeHolds(keys, c, now)
      end
      -- The quiet key was missing, or this would not run: it is due back.
      markQuiet(keys, c, now)
      return { reaping and L.isDue(c, now) and CALL_AGAIN or INSUFFICIENT, stock, 0, expired }
    end
  elseif due then
    expired, stock = library().reap(keys, c, now, retentionMs)
  end
  if c.p ~= 0 and c.p <= now then
    library().purge(keys, c, now)
  end
  local code, taken = UNLIMITED, 0
  if stock ~= UNLIMITED then
    code = redis.call('DECRBY', keys[1], qty)
    taken = qty
  end
  local at = now + holdMs
  writeHolds(keys, c, now, id, openHold(keys, c, id, taken, code, at))
  if needsLife(c, at, at) then
    library().keepAlive(keys, c, now, at, at)
  end
  return { code, code, at, expired }
end
