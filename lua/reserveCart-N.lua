--[[
  Reserves a cart: every line or none, in one atomic step. Used when all
  its keys can go in one call (a single Redis, or keys sharing a hash slot);
  across Cluster slots the store reserves line by line instead. Each line is
  a hold of its own item, idempotent per hold id: a line whose id is known
  answers as it first did and deducts nothing.

  Input (five keys per line, lines in a fixed order; numkeys = 5 x lines):
    KEYS[5i-4 .. 5i] line i's figure, epoch, open, holds, settled
                     (see includes/holds)
    ARGV[1] how long the holds last, ms
    ARGV[2] how long a settled hold's record is kept, ms
    ARGV[1 + 2i] line i's quantity (positive integer)
    ARGV[2 + 2i] line i's hold id

  Output: { status, list, expired }
    status 'reserved': list = flat { code, available, expiresAt, replayed }
                       per line, as reserveHold-5 answers one line
    status 'short':    list = flat { line, available } per line without
                       enough stock; nothing changed
    status 'missing':  list = { line, ... } whose figure is absent (load
                       them, then call again); nothing changed
    expired: flat { count } per line, the holds this call expired
]]
--- @include "includes/clock"
--- @include "includes/reserveUnits"
--- @include "includes/holds"

local now = nowMs()
local holdMs = tonumber(ARGV[1])
local retentionMs = tonumber(ARGV[2])
local lines = {}
local expired = {}
local missing = {}
local short = {}
for i = 1, #KEYS / 5 do
  local keys = { KEYS[5 * i - 4], KEYS[5 * i - 3], KEYS[5 * i - 2], KEYS[5 * i - 1], KEYS[5 * i] }
  local line = { keys = keys, qty = tonumber(ARGV[1 + 2 * i]), id = ARGV[2 + 2 * i] }
  line.known = readHold(keys, line.id)
  lines[i] = line
  expired[i] = 0
  if not line.known then
    expired[i] = reapHolds(keys, now, retentionMs)
    local raw = redis.call('GET', keys[1])
    if not raw then
      missing[#missing + 1] = i
    elseif tonumber(raw) ~= -1 and tonumber(raw) < line.qty then
      short[#short + 1] = i
      short[#short + 1] = math.max(tonumber(raw), 0)
    end
  end
end
if #missing > 0 then
  return { 'missing', missing, expired }
end
if #short > 0 then
  return { 'short', short, expired }
end
local list = {}
for _, line in ipairs(lines) do
  local known = line.known
  if known then
    list[#list + 1] = known.r
    list[#list + 1] = known.a
    list[#list + 1] = known.x
    list[#list + 1] = 1
  else
    local reply = reserveUnits(line.keys[1], line.qty)
    local qty = reply[1] == -1 and 0 or line.qty
    list[#list + 1] = reply[1]
    list[#list + 1] = reply[2]
    list[#list + 1] = openHold(line.keys, line.id, qty, reply[1], reply[2], now, holdMs)
    list[#list + 1] = 0
  end
end
return { 'reserved', list, expired }
