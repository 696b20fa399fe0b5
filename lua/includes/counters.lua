--[[
  An item: its stock figure and its holds, under one hash tag (so that one
  script sees them all on a Redis Cluster). Every hold script takes the same
  six keys, in this order:

    KEYS[1] figure     the stock figure: an integer string, -1 unlimited
    KEYS[2] holds      hash: one record per hold (field: the hold's nonce,
                       NONCE_LENGTH characters, see includes/records), the
                       item's counters (field '#', below), and each
                       customer's count toward a per-customer limit (field:
                       the customer's digest, CUSTOMER_LENGTH characters,
                       see includes/limits)
    KEYS[3] due        list of tickets (expiry, nonce) in the order the
                       holds were made: expiry order while holds last as
                       long as the ones before them
    KEYS[4] dueSorted  sorted set: nonce -> expiry for a hold that falls due
                       before the due list's tail (a shorter hold, or an
                       extension); nonce -> -expiry for an in-doubt hold
                       (negative: never due, and listed with one range)
    KEYS[5] purge      list of tickets (purge time, nonce) in purge order:
                       when each settled record is forgotten
    KEYS[6] quiet      exists only while no open hold is due (see
                       L.markQuiet): a refusal that finds it needs neither
                       the clock nor the counters

  A ticket is never looked for when its hold settles or is extended: it
  stays in place, and when its turn comes a ticket whose record is settled,
  gone, or now falls due at another time is dropped. So making, settling and
  extending a hold each cost O(1), and each ticket is reaped once.

  The counters, twelve whole numbers packed as doubles (exact below 2^53) in
  one field: one field to read and write, and no number-to-text conversion,
  which costs Redis more than the call that writes it.
    d  when the next ticket falls due (ms, Redis clock); 0: none queued
    n  open holds               u  units in open holds
    e  the figure's epoch: bumped each time a figure is written
    a  the oldest epoch whose holds give units back to the figure: a figure
       loaded from the database already counts older holds' units as free
    m  prepared holds
    t  the due list's tail expiry: a later hold goes after it in the list,
       an earlier one into dueSorted
    p  when the next settled record is forgotten; 0: none
    l  keys 2-5 live until then (PEXPIREAT); 0: not set; -1: never
    f  when the figure expires; 0: not known; -1: never
    k  the item's own per-customer limit (0: none), given with its figure
       or by setLimit-6; a call may give its own instead
    g  prepares so far (never goes down): every order's database commit
       follows its prepare, so reconcile, reading this before it reads the
       database, can tell that no order committed in between (resetFigure-6)

  Every key expires: keys 2-5 together at l (so a record never
  outlives its ticket, nor a ticket its record), the quiet key no later
  than that (or a day), the figure at its own TTL, stretched to outlive
  the holds taken from it (or a reload would count their units as free).
  While the item has open holds or a limit, l outlives the figure (a
  customer's count must not end before the sale does), and with a figure
  that never expires (ttlSeconds 0) keys 2-5 do not expire either:
  only a reap may give open holds' units back. An idle item leaves nothing
  behind.
]]
--- @include "includes/formats"

-- The counters of field '#' (false when the item has none yet). d0 and n0
-- keep what was read, for writeHolds. One table constructor: a table that
-- grows field by field is rehashed as it grows.
local function readCounters(packed)
  if not packed then
    return { d = 0, n = 0, u = 0, e = 0, a = 0, m = 0, t = 0, p = 0, l = 0, f = 0, k = 0, g = 0, d0 = 0, n0 = 0 }
  end
  local d, n, u, e, a, m, t, p, l, f, k, g = struct.unpack(COUNTERS, packed)
  return { d = d, n = n, u = u, e = e, a = a, m = m, t = t, p = p, l = l, f = f, k = k, g = g, d0 = d, n0 = n }
end

local function packCounters(c)
  return struct.pack(COUNTERS, c.d, c.n, c.u, c.e, c.a, c.m, c.t, c.p, c.l, c.f, c.k, c.g)
end
