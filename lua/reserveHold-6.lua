--[[
  Reserves stock under a hold: the hot path, one EVALSHA. Idempotent per
  hold nonce.

  Most answers of a flash sale are refusals: those come first, before any
  function is made (each Lua closure a script makes costs Redis time on
  every call), with as few calls as the article's script makes: the
  figure, the quiet key (no open hold due, see includes/open) and whether
  the nonce is new.

  Input:
    KEYS[1..6] figure, holds, due, dueSorted, purge, quiet
               (see includes/counters)
    ARGV[1] quantity (positive integer)
    ARGV[2] the hold's nonce (the hold id's first part, made by the caller)
    ARGV[3] how long the hold lasts, ms
    ARGV[4] how long a settled hold's record is kept, ms
    ARGV[5] the customer (a digest), or '' for none
    ARGV[6] the customer's limit for this call, or '' for the item's own
            (see includes/limits)

  Output: the figure's own text (not enough, and that many units there
  are: the quick refusal above), or { code, available, expiresAt, expired,
  replayed }, trailing zeros left out
    code >= 0  reserved, code units left; expiresAt = the hold's expiry (ms)
    code == -1 unlimited (a hold of 0 units, so commit and release still work)
    code == -2 not enough; available = units there are; no hold
    code == -3 not initialised: load the figure, call initAndReserveHold-6
    code == -4 not enough yet, and more due holds to reap: call again
    code == -5 the customer would pass their limit: { -5, bought, limit,
               expired }, nothing deducted
    expired: how many of the item's holds this call expired (for metrics)
    replayed: 1 when the nonce was known: the first answer, nothing deducted
]]
--- @include "includes/codes"
--- @include "includes/formats"
--- @include "includes/clock"

local qty, id = tonumber(ARGV[1]), ARGV[2]
local who, limit = ARGV[5] ~= '' and ARGV[5] or nil, tonumber(ARGV[6])
local raw = redis.call('GET', KEYS[1])
local stock = tonumber(raw)
local got
if stock and stock % 1 == 0 and stock >= UNLIMITED then
  if stock ~= UNLIMITED and stock < qty then
    if redis.call('EXISTS', KEYS[6]) == 1 and redis.call('HEXISTS', KEYS[2], id) == 0 then
      return raw
    end
  else
    -- A customer's count comes with the record and the counters (includes/limits).
    if who then
      got = redis.call('HMGET', KEYS[2], id, '#', who)
    else
      got = redis.call('HMGET', KEYS[2], id, '#')
    end
    if not got[1] and got[2] then
      local d, n, u, e, a, m, t, p, l, f, k, g = struct.unpack(COUNTERS, got[2])
      local now = nowMs()
      local at = now + tonumber(ARGV[3])
      -- Holds open and none due (the quiet key stays as it is), nothing to
      -- forget, the ticket at the due list's tail, the lives long enough.
      if n > 0 and d > now and (p == 0 or p > now) and at >= t
        and ((f == -1 and l == -1) or (f > 0 and at <= f and f <= l)) then
        local limited = who and (limit or k) or 0
        local bought
        if limited > 0 then
          bought = tonumber(got[3]) or 0
          if bought + qty > limited then
            return { LIMIT, bought, limited }
          end
        end
        local code, taken = UNLIMITED, 0
        if stock ~= UNLIMITED then
          code = redis.call('DECRBY', KEYS[1], ARGV[1])
          taken = qty
        end
        if redis.call('RPUSH', KEYS[3], struct.pack(TICKET_TIME, at) .. id) == 1 and l > 0 then
          redis.call('PEXPIREAT', KEYS[3], l)
        end
        local record = struct.pack(RECORD, 'h', taken, e, at, code)
        local counters = struct.pack(COUNTERS, d, n + 1, u + taken, e, a, m, at, p, l, f, k, g)
        if bought then
          redis.call('HSET', KEYS[2], id, record .. struct.pack(CUSTOMER_UNITS, qty) .. who, '#', counters, who, bought + qty)
        else
          redis.call('HSET', KEYS[2], id, record, '#', counters)
        end
        return { code, code, at }
      end
    end
  end
end

--- @include "includes/lazyLibrary"

return library().reserveOne(KEYS, id, qty, tonumber(ARGV[3]), tonumber(ARGV[4]), raw, got, who, limit)
