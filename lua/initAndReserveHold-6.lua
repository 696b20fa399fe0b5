--[[
  Writes the figure loaded from the database, only if no figure is there
  (SET NX, see writeFigure in includes/library), starting a new epoch with it, then
  reserves under a hold against whatever figure now stands.

  Input:
    KEYS[1..6] figure, holds, due, dueSorted, purge, quiet
               (see includes/counters)
    ARGV[1] stock loaded from the source of truth (integer >= -1)
    ARGV[2] TTL of the figure in seconds (0 = none)
    ARGV[3] quantity (positive integer)
    ARGV[4] the hold's nonce
    ARGV[5] how long the hold lasts, ms
    ARGV[6] how long a settled hold's record is kept, ms
    ARGV[7] the customer (a digest), or '' for none
    ARGV[8] the customer's limit for this call, or '' for the item's own
    ARGV[9] the item's own per-customer limit, loaded with the stock (0: none)

  Output: { code, available, expiresAt, expired, replayed, written }
    as reserveHold-6 (a LIMIT answer too); written = 1 when this call
    wrote the figure (and the item's limit)
]]
local L = {}
--- @include "includes/reserve"

local retentionMs = tonumber(ARGV[6])
local c = readCounters(redis.call('HGET', KEYS[2], '#'))
local written = L.writeFigure(KEYS, c, nowMs(), ARGV[1], tonumber(ARGV[2]), true, retentionMs, tonumber(ARGV[9]))
local who = ARGV[7] ~= '' and ARGV[7] or nil
local reply = L.reserveOne(KEYS, ARGV[4], tonumber(ARGV[3]), tonumber(ARGV[5]), retentionMs, redis.call('GET', KEYS[1]), nil, who, tonumber(ARGV[8]))
for i = #reply + 1, 5 do
  reply[i] = 0
end
reply[6] = written and 1 or 0
return reply
