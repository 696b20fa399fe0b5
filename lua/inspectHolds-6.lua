--[[
  Reads an item: its figure and what its open holds keep, after reaping a
  batch of due holds (while `more` is 1 the figure may under-state: call
  again until it is 0), and one page of its open or in-doubt holds.

  Input:
    KEYS[1..6] figure, holds, due, dueSorted, purge, quiet
               (see includes/counters)
    ARGV[1] how long a settled hold's record is kept, ms
    ARGV[2] which holds to list: 'none' (totals only), 'all' (open holds,
            a page of HSCAN from cursor ARGV[3]) or 'in-doubt' (from
            offset ARGV[3])
    ARGV[3] where the page starts (HSCAN cursor, or offset); '0' first
    ARGV[4] about how many to read for the page

  Output: { figure, units, count, list, expired, inDoubt, prepared, more, next,
            prepares }
    figure   the stock figure, or false when absent
    units    units in open holds (prepared and in-doubt ones included)
    count    number of open holds
    list     flat { nonce, qty, expiresAt, state letter, customer ('' for
             none), units counted toward the customer, ... } for the page
    expired  how many holds this call expired (for metrics)
    inDoubt  number of in-doubt holds    prepared  number of prepared holds
    more     1 while due holds are left to reap
    next     where the next page starts, '0' after the last
    prepares prepares so far (g, see includes/counters)
]]
local L = {}
--- @include "includes/library"

local retentionMs, mode, from, size = tonumber(ARGV[1]), ARGV[2], ARGV[3], tonumber(ARGV[4])
local c, now, expired = L.tidy(KEYS, retentionMs)
local list, nextPage = {}, '0'
local function add(id, hold)
  list[#list + 1] = id
  list[#list + 1] = hold.q
  list[#list + 1] = hold.x
  list[#list + 1] = hold.s
  list[#list + 1] = hold.who or ''
  list[#list + 1] = hold.w or 0
end
if mode == 'all' then
  local page = redis.call('HSCAN', KEYS[2], from, 'COUNT', size)
  nextPage = page[1]
  local fields = page[2]
  for i = 1, #fields, 2 do
    -- Holds only: not the counters, nor a customer's count (includes/counters).
    if #fields[i] == NONCE_LENGTH then
      local hold = decodeHold(fields[i + 1])
      if isOpen(hold) then
        add(fields[i], hold)
      end
    end
  end
elseif mode == 'in-doubt' then
  local ids = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', '(0', 'LIMIT', tonumber(from), size)
  if #ids > 0 then
    local raws = redis.call('HMGET', KEYS[2], unpack(ids))
    for i, id in ipairs(ids) do
      if raws[i] then
        add(id, decodeHold(raws[i]))
      end
    end
  end
  if #ids == size then
    nextPage = tostring(tonumber(from) + size)
  end
end
return {
  redis.call('GET', KEYS[1]),
  c.u,
  c.n,
  list,
  expired,
  redis.call('ZCOUNT', KEYS[4], '-inf', '(0'),
  c.m,
  L.isDue(c, now) and 1 or 0,
  nextPage,
  c.g,
}
