--[[
  Prepares, commits or releases a hold. Exactly one of commit, release and
  expiry wins: a hold whose time has come falls due first (a held one
  expires, a prepared one turns in-doubt), and a settled hold is never
  settled again, so a resent call changes nothing. Only this hold is
  looked at: other due holds are left to the calls that read the figure.

  'prepare' is phase one of a commit, sent inside the order's database
  transaction just before it commits: from then on the hold's expiry no
  longer gives its units back (it turns the hold in-doubt instead), so an
  order whose process died between the database commit and the hold's
  commit never leaves its units for sale twice. Only a 'held' hold can be
  prepared; a resent prepare finds it 'prepared' and changes nothing.

  A quick path comes first, before any function is made (each Lua closure
  a script makes costs Redis time on every call): a hold held or prepared,
  not due, of an item with other holds open (so the quiet key stays as it
  is), nothing to forget, the records' life long enough. It writes exactly
  what the general path (L.settleOne, includes/settleOne) writes then.

  Input:
    KEYS[1..6] figure, holds, due, dueSorted, purge, quiet
               (see includes/counters)
    ARGV[1] the hold's nonce
    ARGV[2] 'prepare', 'commit' or 'release'
    ARGV[3] how long a settled hold's record is kept, ms

  Output: { state, changed, expired }
    state   the hold's state after the call, as its letter (see
            includes/records): p, d, c, r, x, or '?' (no such hold, or
            forgotten)
    changed 1 when this call moved it, 0 when it was there before
    expired 1 when this call expired the hold itself (for metrics)
]]
--- @include "includes/formats"
--- @include "includes/clock"

local id, action, retentionMs = ARGV[1], ARGV[2], tonumber(ARGV[3])
local got = redis.call('HMGET', KEYS[2], id, '#')
if got[1] and got[2] then
  local s, q, e, x, r, rest = struct.unpack(RECORD, got[1])
  local now = nowMs()
  if (s == 'h' or s == 'p') and x > now then
    local d, n, u, ce, a, m, t, p, l, f, k, g = struct.unpack(COUNTERS, got[2])
    -- A limited hold's customer and units, kept as they are.
    local customer = string.sub(got[1], rest)
    if action == 'prepare' then
      if s == 'p' then
        return { s, 0, 0 }
      end
      redis.call('HSET', KEYS[2], id, struct.pack(RECORD, 'p', q, e, x, r) .. customer,
        '#', struct.pack(COUNTERS, d, n, u, ce, a, m + 1, t, p, l, f, k, g + 1))
      return { 'p', 1, 0 }
    end
    local purgeAt = now + retentionMs
    if n > 1 and (p == 0 or p > now) and (l == -1 or purgeAt <= l) then
      local state = action == 'commit' and 'c' or 'r'
      if state == 'r' then
        if q > 0 and e >= a then
          local stock = tonumber(redis.call('GET', KEYS[1]))
          if stock and stock ~= -1 then
            redis.call('INCRBY', KEYS[1], q)
          end
        end
        if customer ~= '' then
          local w = struct.unpack(CUSTOMER_UNITS, customer)
          local who = string.sub(customer, 5)
          if redis.call('HINCRBY', KEYS[2], who, -w) <= 0 then
            redis.call('HDEL', KEYS[2], who)
          end
        end
      end
      if redis.call('RPUSH', KEYS[5], struct.pack(TICKET_TIME, purgeAt) .. id) == 1 and l > 0 then
        redis.call('PEXPIREAT', KEYS[5], l)
      end
      if s == 'p' then
        m = m - 1
      end
      redis.call('HSET', KEYS[2], id, struct.pack(RECORD, state, q, e, x, r) .. customer,
        '#', struct.pack(COUNTERS, d, n - 1, u - q, ce, a, m, t, p == 0 and purgeAt or p, l, f, k, g))
      return { state, 1, 0 }
    end
  end
end

--- @include "includes/lazyLibrary"

return library().settleOne(KEYS, id, action, retentionMs, got)
