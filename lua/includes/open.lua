--[[
  Opening a hold and writing an item's holds back: the steps of every
  reservation (see includes/counters for the layout). They change the
  counters `c` in place; writeHolds writes them back.
]]
--- @include "includes/counters"
--- @include "includes/formats"

-- Queues a ticket for a hold falling due at `at`: in the due list while
-- expiries come in order, else in dueSorted. A key this makes gets the
-- item's life.
local function queueTicket(keys, c, id, at)
  if at >= c.t then
    if redis.call('RPUSH', keys[3], struct.pack(TICKET_TIME, at) .. id) == 1 and c.l > 0 then
      redis.call('PEXPIREAT', keys[3], c.l)
    end
    c.t = at
  else
    redis.call('ZADD', keys[4], at, id)
    if c.l > 0 then
      redis.call('PEXPIREAT', keys[4], c.l)
    end
  end
  if c.d == 0 or at < c.d then
    c.d = at
  end
end

-- A new hold of `qty` units (0 for unlimited stock) falling due at `at`;
-- `code` is the reserve's answer. Counted toward a limit, it keeps `who`
-- and the units counted, `w` (see includes/limits). Returns its record.
local function openHold(keys, c, id, qty, code, at, who, w)
  queueTicket(keys, c, id, at)
  c.n = c.n + 1
  c.u = c.u + qty
  local record = struct.pack(RECORD, 'h', qty, c.e, at, code)
  if who then
    record = record .. struct.pack(CUSTOMER_UNITS, w) .. who
  end
  return record
end

--[[
  Writes a record (`id`, `record`; none when id is nil) and the counters in
  one HSET, queues `purges` (settled records' purge tickets) in one RPUSH,
  and moves the quiet key (see L.markQuiet) when the next due time or the
  open holds' count (to or from 0) changed.
]]
local function writeHolds(keys, c, now, id, record, purges)
  if purges and #purges > 0 and redis.call('RPUSH', keys[5], unpack(purges)) == #purges and c.l > 0 then
    redis.call('PEXPIREAT', keys[5], c.l)
  end
  if id then
    redis.call('HSET', keys[2], id, record, '#', packCounters(c))
  else
    redis.call('HSET', keys[2], '#', packCounters(c))
  end
  if c.d ~= c.d0 or (c.n == 0) ~= (c.n0 == 0) then
    L.markQuiet(keys, c, now)
    c.d0, c.n0 = c.d, c.n
  end
end

--[[
  Whether keepAlive (see includes/library) must run: keys 2-5 must
  live until `need` (a hold's expiry, a record's purge time) and past the
  figure while it has open holds or a limit (for ever with a figure that
  never expires), and the figure past `figureNeed` (a hold's expiry), if
  given. False on almost every call: lives are stretched with a quarter to
  spare.
]]
local function needsLife(c, need, figureNeed)
  if figureNeed and c.f ~= -1 and figureNeed > c.f then
    return true
  end
  local bound = c.n > 0 or c.k > 0
  if bound and c.f == -1 then
    return c.l ~= -1
  end
  if bound and c.f > need then
    need = c.f
  end
  return c.l == -1 or need > c.l
end
