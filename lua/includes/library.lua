--[[
  The library of the hold scripts, as functions of the table L (and the
  includes' own): reaping due holds, forgetting settled records, stretching
  the keys' lives, moving the quiet key, writing a figure. A script declares
  `local L = {}` before this include; the hot scripts build it on first use
  instead (includes/lazyLibrary).

  Reaping and purging take a bounded batch per call: a script's work never
  grows with what piled up (200,000 holds that fall due together are
  reaped by 200 short calls, and other clients of the Redis are served
  between them).
]]
--- @include "includes/clock"
--- @include "includes/codes"
--- @include "includes/settle"

-- The first answer of a reservation whose nonce is known (a resent call).
function L.replay(raw)
  local known = decodeHold(raw)
  return { known.r, known.r, known.x, 0, 1 }
end

--[[
  The quiet key (KEYS[6]) exists only while no open hold is due: it expires
  when the next ticket falls due (c.d), or, while no hold is open (or only
  in-doubt ones, never due), with the keys' life (a day when that is not
  set yet). Stale tickets (of settled holds) only shorten it: a refusal
  without it takes the longer way, reaping them.
]]
function L.markQuiet(keys, c, now)
  local quietUntil = c.d
  if c.n == 0 or c.d == 0 then
    quietUntil = c.l > 0 and c.l or now + 86400000
  end
  if quietUntil <= now then
    redis.call('DEL', keys[6])
  else
    redis.call('SET', keys[6], 1, 'PXAT', quietUntil)
  end
end


-- Most tickets one call reaps, and most settled records it forgets: a few
-- milliseconds of Redis time each. A reaping batch of 1,000 took 3 to 7 ms
-- on average in the bench's script scenario, but a loaded machine stretched
-- single calls past 20 ms (25.9 ms in one bench run, 21 ms in one CI run of
-- test/footprint-reaping.test.ts). Half that batch takes 3 to 9 ms there; a
-- stall of the host can still stretch one call (24 ms once in CI), which no
-- batch size prevents, so that test tries a fresh pile once when only its
-- times fail.
-- A batch goes to Redis as one HSET of two arguments a hold (one HDEL of
-- one a record), and Lua's unpack takes at most about 8,000: REAP_BATCH
-- must stay below 4,000, PURGE_BATCH below 8,000.
L.REAP_BATCH = 500
L.PURGE_BATCH = 1000
-- Tickets read per LRANGE: most calls find a handful due, not a batch.
local TICKET_CHUNK = 64

-- The keys that live together, by l (see includes/counters).
local ITEM_KEYS = { 2, 3, 4, 5 }

-- `at` and a quarter more of the time until then: stretched lives outlast
-- their need, so that stretching is rare.
function L.withSlack(now, at)
  return at + math.floor((at - now) / 4)
end

--[[
  Stretches the lives (see needsLife in includes/open): the figure past
  `figureNeed` (learning its TTL with PTTL when not known), keys 2-5
  past `need` and past the figure while it has open holds or a limit, or
  for ever when the figure never expires. Writes the counters.
]]
function L.keepAlive(keys, c, now, need, figureNeed)
  local figureAt, keysAt
  if figureNeed and c.f ~= -1 and figureNeed > c.f then
    if c.f == 0 then
      local ttl = redis.call('PTTL', keys[1])
      c.f = ttl == -1 and -1 or now + ttl
    end
    if c.f ~= -1 and c.f < figureNeed then
      c.f = L.withSlack(now, figureNeed)
      figureAt = c.f
    end
  end
  local bound = c.n > 0 or c.k > 0
  if bound and c.f == -1 then
    if c.l ~= -1 then
      c.l = -1
      keysAt = 'never'
    end
  else
    if bound and c.f > need then
      need = c.f
    end
    if c.l == -1 or need > c.l then
      c.l = L.withSlack(now, need)
      keysAt = c.l
    end
  end
  -- The counters first: the holds hash may not exist before this HSET.
  redis.call('HSET', keys[2], '#', packCounters(c))
  if figureAt then
    redis.call('PEXPIREAT', keys[1], figureAt)
  end
  if keysAt == 'never' then
    for _, i in ipairs(ITEM_KEYS) do
      redis.call('PERSIST', keys[i])
    end
  elseif keysAt then
    for _, i in ipairs(ITEM_KEYS) do
      redis.call('PEXPIREAT', keys[i], keysAt)
    end
  end
end

-- The due tickets at the head of a list, at most `limit`: { { nonce, at }, ... }.
function L.dueTickets(key, now, limit)
  local due = {}
  while #due < limit do
    local want = math.min(TICKET_CHUNK, limit - #due)
    local chunk = redis.call('LRANGE', key, #due, #due + want - 1)
    for _, raw in ipairs(chunk) do
      local at, id = parseTicket(raw)
      if at > now then
        return due
      end
      due[#due + 1] = { id, at }
    end
    if #chunk < want then
      return due
    end
  end
  return due
end

-- When the next ticket falls due (c.d), after reaping; c.t is cleared with the list.
function L.findNextDue(keys, c)
  c.d = 0
  local head = redis.call('LINDEX', keys[3], 0)
  if head then
    c.d = parseTicket(head)
  else
    c.t = 0
  end
  local first = redis.call('ZRANGEBYSCORE', keys[4], 0, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
  if first[2] and (c.d == 0 or tonumber(first[2]) < c.d) then
    c.d = tonumber(first[2])
  end
end

--[[
  Reaps up to `budget` (default REAP_BATCH) due tickets, the due list's head
  then dueSorted: each open hold whose time it is falls due (a held one
  expires and its units go back, a prepared one turns in-doubt). Writes the
  records, not the counters. Returns how many holds expired and the figure
  after (nil when absent); c.d then says whether more are due.
]]
function L.reap(keys, c, now, retentionMs, budget)
  budget = budget or L.REAP_BATCH
  local due = L.dueTickets(keys[3], now, budget)
  local fromList = #due
  local fromSorted = {}
  if fromList < budget then
    local sorted = redis.call('ZRANGEBYSCORE', keys[4], 0, now, 'WITHSCORES', 'LIMIT', 0, budget - fromList)
    for i = 1, #sorted, 2 do
      fromSorted[#fromSorted + 1] = sorted[i]
      due[#due + 1] = { sorted[i], tonumber(sorted[i + 1]) }
    end
  end
  local expired, owed = 0, 0
  local fields, purges = {}, {}
  if #due > 0 then
    local ids = {}
    for i, ticket in ipairs(due) do
      ids[i] = ticket[1]
    end
    local raws = redis.call('HMGET', keys[2], unpack(ids))
    if #fromSorted > 0 then
      redis.call('ZREM', keys[4], unpack(fromSorted))
    end
    local seen = {}
    local purgeAt = now + retentionMs
    for i, ticket in ipairs(due) do
      local id = ticket[1]
      local hold = not seen[id] and raws[i] and decodeHold(raws[i])
      if hold and hold.x == ticket[2] and (hold.s == 'h' or hold.s == 'p') then
        seen[id] = true
        local record
        if hold.s == 'h' then
          local units
          record, units = closeHold(keys, c, id, hold, 'x', purgeAt, purges)
          owed = owed + units
          expired = expired + 1
        else
          record = toInDoubt(keys, c, id, hold)
        end
        fields[#fields + 1] = id
        fields[#fields + 1] = record
      end
    end
    if fromList > 0 then
      redis.call('LTRIM', keys[3], fromList, -1)
    end
  end
  if #fields > 0 then
    redis.call('HSET', keys[2], unpack(fields))
  end
  if #purges > 0 and redis.call('RPUSH', keys[5], unpack(purges)) == #purges and c.l > 0 then
    redis.call('PEXPIREAT', keys[5], c.l)
  end
  L.findNextDue(keys, c)
  if expired > 0 and needsLife(c, now + retentionMs) then
    L.keepAlive(keys, c, now, now + retentionMs)
  end
  return expired, giveBack(keys, owed)
end

--[[
  The start of every script that reads the figure: the item's counters,
  with a batch of due holds reaped and a batch of settled records forgotten
  when due, and what that changed written. Returns the counters, the time
  and how many holds expired; L.isDue(c, now) then says whether more are due.
]]
function L.tidy(keys, retentionMs)
  local packed = redis.call('HGET', keys[2], '#')
  local c = readCounters(packed)
  local now = nowMs()
  local expired = 0
  if L.isDue(c, now) then
    expired = L.reap(keys, c, now, retentionMs)
  end
  L.purge(keys, c, now)
  if packed and packCounters(c) ~= packed then
    writeHolds(keys, c, now)
  end
  return c, now, expired
end

-- Whether a ticket is due that no call has reaped yet.
function L.isDue(c, now)
  return c.d ~= 0 and c.d <= now
end

-- Forgets up to `budget` (default PURGE_BATCH) settled records whose
-- retention is over, when one is. Changes c.p only.
function L.purge(keys, c, now, budget)
  if c.p == 0 or c.p > now then
    return
  end
  local due = L.dueTickets(keys[5], now, budget or L.PURGE_BATCH)
  if #due > 0 then
    local ids = {}
    for i, ticket in ipairs(due) do
      ids[i] = ticket[1]
    end
    redis.call('HDEL', keys[2], unpack(ids))
    redis.call('LTRIM', keys[5], #due, -1)
  end
  local head = redis.call('LINDEX', keys[5], 0)
  c.p = head and parseTicket(head) or 0
end

--[[
  Writes a figure and starts a new epoch with it: holds taken before give
  nothing back to it. With nx, only where no figure is (SET NX: a figure
  already written, and maybe already deducted from, is never overwritten;
  correctness rests on this, not on the initialisation lock). `limit`, when
  given (a figure loaded from the database), becomes the item's own
  per-customer limit (0: none). Changes the counters, and writes them when
  it wrote. Returns true when it wrote.
]]
function L.writeFigure(keys, c, now, stock, ttlSeconds, nx, retentionMs, limit)
  local args = { 'SET', keys[1], stock }
  if ttlSeconds > 0 then
    args[#args + 1] = 'EX'
    args[#args + 1] = ttlSeconds
  end
  if nx then
    args[#args + 1] = 'NX'
  end
  if not redis.call(unpack(args)) then
    return false
  end
  c.e = c.e + 1
  c.a = c.e
  c.f = ttlSeconds > 0 and now + ttlSeconds * 1000 or -1
  if limit then
    c.k = limit
  end
  -- Should the counters go (the item idle), the next figure starts at epoch
  -- 1: no record is left then to mistake it for its own.
  L.keepCounters(keys, c, now, c.f > 0 and c.f or now + retentionMs)
  return true
end

-- Writes the counters, with the lives they need past `need`.
function L.keepCounters(keys, c, now, need)
  if needsLife(c, need) then
    L.keepAlive(keys, c, now, need)
  else
    redis.call('HSET', keys[2], '#', packCounters(c))
  end
end
