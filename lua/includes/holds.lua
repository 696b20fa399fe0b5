--[[
  Holds: every reservation is a hold with an id, kept next to its item's
  figure (the keys share the item's hash tag, so one script sees them all).

  The five keys every hold script takes, in this order:
    KEYS[1] figure   the stock figure (a string integer; -1 unlimited)
    KEYS[2] epoch    the figure's generation: a new one each time the figure
                     is loaded or set, so a hold taken from an older figure
                     never adds units to a reloaded one
    KEYS[3] open     sorted set: open hold id -> expiry (ms, Redis clock);
                     an in-doubt hold is scored minus its expiry, which keeps
                     it out of reaping and lists the in-doubt ones cheaply
    KEYS[4] holds    hash: hold id -> JSON record; field '#units' = units in
                     open holds
    KEYS[5] settled  sorted set: settled hold id -> when its record is purged

  A record: { s = state, q = units taken (0 for unlimited stock), e = epoch
  taken from, x = expiry (ms), r = the reserve answer's code, a = its
  available }.

  States: open ones keep their units: 'held'; 'prepared' (phase one of a
  commit: the order's database transaction is about to commit, so expiry
  must not give the units back); 'in-doubt' (a prepared hold whose time came
  before its commit did: its process may have died either side of the
  database commit, and only the database can say which). Then exactly one of
  'committed', 'released', 'expired'.

  Expiry needs no timer: every hold script first reaps the holds whose time
  has come, so their units are back before anyone reads the figure. Settled
  records are purged by the scripts that run once per hold (settle, inspect),
  keeping that work off the reserve path.
]]
local UNITS = '#units'
local REAP_BATCH = 100
local OPEN = { held = true, prepared = true, ['in-doubt'] = true }

local function readHold(keys, id)
  local raw = redis.call('HGET', keys[4], id)
  if raw then
    return cjson.decode(raw)
  end
  return nil
end

local function writeHold(keys, id, hold)
  redis.call('HSET', keys[4], id, cjson.encode(hold))
end

-- The hold if it is open; otherwise nil and the answer of a settle or an
-- extend that finds it settled or unknown: { state, 0, expired }.
local function openHoldOr(keys, id, expired)
  local hold = readHold(keys, id)
  if not hold then
    return nil, { 'unknown', 0, expired }
  end
  if not OPEN[hold.s] then
    return nil, { hold.s, 0, expired }
  end
  return hold
end

local function addOpenUnits(keys, qty)
  if qty ~= 0 and redis.call('HINCRBY', keys[4], UNITS, qty) == 0 then
    redis.call('HDEL', keys[4], UNITS)
  end
end

-- Units go back only to the figure they were taken from.
local function returnUnits(keys, hold)
  if hold.q == 0 or redis.call('GET', keys[2]) ~= hold.e then
    return
  end
  local raw = redis.call('GET', keys[1])
  if raw and tonumber(raw) ~= -1 then
    redis.call('INCRBY', keys[1], hold.q)
  end
end

local function settleHold(keys, id, hold, state, now, retentionMs)
  if state ~= 'committed' then
    returnUnits(keys, hold)
  end
  hold.s = state
  writeHold(keys, id, hold)
  addOpenUnits(keys, -hold.q)
  redis.call('ZREM', keys[3], id)
  redis.call('ZADD', keys[5], now + retentionMs, id)
end

--[[
  Expires every hold whose time has come, in chunks until none is due: a
  figure read after this never under-states, however many holds fell due at
  once (each hold is reaped once, so the work is spread over their life). A
  prepared hold keeps its units and turns in-doubt instead.
  Returns how many holds it expired.
]]
local function reapHolds(keys, now, retentionMs)
  local count = 0
  repeat
    local due = redis.call('ZRANGEBYSCORE', keys[3], 0, now, 'LIMIT', 0, REAP_BATCH)
    for _, id in ipairs(due) do
      local hold = readHold(keys, id)
      if hold and hold.s == 'held' then
        settleHold(keys, id, hold, 'expired', now, retentionMs)
        count = count + 1
      elseif hold and hold.s == 'prepared' then
        hold.s = 'in-doubt'
        writeHold(keys, id, hold)
        redis.call('ZADD', keys[3], -hold.x, id)
      else
        redis.call('ZREM', keys[3], id)
      end
    end
  until #due < REAP_BATCH
  return count
end

-- Forgets a batch of settled holds whose retention is over. It only frees
-- memory, so a batch per call is enough.
local function purgeSettled(keys, now)
  local forgotten = redis.call('ZRANGEBYSCORE', keys[5], '-inf', now, 'LIMIT', 0, REAP_BATCH)
  if #forgotten > 0 then
    redis.call('HDEL', keys[4], unpack(forgotten))
    redis.call('ZREM', keys[5], unpack(forgotten))
  end
end

-- A figure (and its epoch) never expires before the holds taken from it.
local function keepFigureFor(keys, ms)
  local ttl = redis.call('PTTL', keys[1])
  if ttl >= 0 and ttl < ms then
    redis.call('PEXPIRE', keys[1], ms)
    redis.call('PEXPIRE', keys[2], ms)
  end
end

local function openHold(keys, id, qty, code, available, now, holdMs)
  local expiresAt = now + holdMs
  local hold = { s = 'held', q = qty, e = redis.call('GET', keys[2]) or '', x = expiresAt, r = code, a = available }
  writeHold(keys, id, hold)
  addOpenUnits(keys, qty)
  redis.call('ZADD', keys[3], expiresAt, id)
  keepFigureFor(keys, holdMs)
  return expiresAt
end
