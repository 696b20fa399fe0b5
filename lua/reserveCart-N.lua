--[[
  Reserves a cart: every line or none, in one atomic step. Used when all
  its keys can go in one call (a single Redis, or keys sharing a hash slot);
  across Cluster slots the store reserves line by line instead. Each line is
  a hold of its own item, idempotent per nonce: a line whose nonce is known
  answers as it first did and deducts nothing.

  A short line must first see its due holds' units back (as in
  includes/reserve); the reaping budget of one call is shared by the lines,
  so a cart's call stays as short as a single reservation's.

  Input (six keys per line, lines in a fixed order; numkeys = 6 x lines):
    KEYS[6i-5 .. 6i] line i's figure, holds, due, dueSorted, purge, quiet
                     (see includes/counters)
    ARGV[1] how long the holds last, ms
    ARGV[2] how long a settled hold's record is kept, ms
    ARGV[3] the customer (a digest), or '' for none
    ARGV[1 + 3i] line i's quantity (positive integer)
    ARGV[2 + 3i] line i's hold nonce
    ARGV[3 + 3i] the customer's limit for line i, or '' for its item's own
                 (see includes/limits)

  Output: { status, list, expired }
    status 'reserved': list = flat { code, available, expiresAt, replayed }
                       per line, as reserveHold-6 answers one line
    status 'short':    list = flat { line, available } per line without
                       enough stock; nothing reserved
    status 'again':    as 'short', but a short line has more due holds to
                       reap: call again; nothing reserved
    status 'limit':    list = flat { line, bought, limit } per line that
                       would take the customer past their limit; nothing
                       reserved
    status 'missing':  list = { line, ... } whose figure is absent (load
                       them, then call again); nothing changed
    expired: flat { count } per line, the holds this call expired
]]
local L = {}
--- @include "includes/reserve"

local holdMs, retentionMs = tonumber(ARGV[1]), tonumber(ARGV[2])
local who = ARGV[3] ~= '' and ARGV[3] or nil
local count = #KEYS / 6
local now = nowMs()
local lines, missing, expired = {}, {}, {}
for i = 1, count do
  local keys = {}
  for k = 1, 6 do
    keys[k] = KEYS[6 * (i - 1) + k]
  end
  local id = ARGV[2 + 3 * i]
  local got = redis.call('HMGET', keys[2], id, '#')
  local line = { keys = keys, id = id, qty = tonumber(ARGV[1 + 3 * i]), limit = tonumber(ARGV[3 + 3 * i]), c = readCounters(got[2]) }
  if got[1] then
    line.known = decodeHold(got[1])
  else
    line.stock = L.figureOf(keys[1], redis.call('GET', keys[1]))
    if line.stock == nil then
      missing[#missing + 1] = i
    end
  end
  lines[i] = line
  expired[i] = 0
end
if #missing > 0 then
  return { 'missing', missing, expired }
end

-- The lines share one call's batch of reaping and purging.
local reapBudget = math.max(1, math.floor(L.REAP_BATCH / count))
local purgeBudget = math.max(1, math.floor(L.PURGE_BATCH / count))

local function isShort(line)
  return not line.known and line.stock ~= UNLIMITED and line.stock < line.qty
end

local short, again = {}, false
for i, line in ipairs(lines) do
  if isShort(line) and L.isDue(line.c, now) then
    expired[i], line.stock = L.reap(line.keys, line.c, now, retentionMs, reapBudget)
    line.reaped = true
  end
  if isShort(line) then
    again = again or L.isDue(line.c, now)
    short[#short + 1] = i
    short[#short + 1] = line.stock
  end
end
local over = {}
if #short == 0 then
  for i, line in ipairs(lines) do
    if not line.known then
      line.limited = limitFor(line.c, who, line.limit)
      local bought = overLimit(line.keys, who, line.qty, line.limited)
      if bought then
        over[#over + 1] = i
        over[#over + 1] = bought
        over[#over + 1] = line.limited
      end
    end
  end
end
if #short > 0 or #over > 0 then
  for _, line in ipairs(lines) do
    if line.reaped then
      writeHolds(line.keys, line.c, now)
    end
  end
  if #over > 0 then
    return { 'limit', over, expired }
  end
  return { again and 'again' or 'short', short, expired }
end

local list = {}
local at = now + holdMs
for i, line in ipairs(lines) do
  local known, keys, c = line.known, line.keys, line.c
  if known then
    list[#list + 1] = known.r
    list[#list + 1] = known.r
    list[#list + 1] = known.x
    list[#list + 1] = 1
  else
    if not line.reaped and L.isDue(c, now) then
      expired[i], line.stock = L.reap(keys, c, now, retentionMs, reapBudget)
    end
    L.purge(keys, c, now, purgeBudget)
    local code, taken = UNLIMITED, 0
    if line.stock ~= UNLIMITED then
      code = redis.call('DECRBY', keys[1], line.qty)
      taken = line.qty
    end
    local counted = line.limited > 0 and who or nil
    writeHolds(keys, c, now, line.id, openHold(keys, c, line.id, taken, code, at, counted, line.qty))
    if counted then
      countToward(keys, who, line.qty)
    end
    if needsLife(c, at, at) then
      L.keepAlive(keys, c, now, at, at)
    end
    list[#list + 1] = code
    list[#list + 1] = code
    list[#list + 1] = at
    list[#list + 1] = 0
  end
end
return { 'reserved', list, expired }
