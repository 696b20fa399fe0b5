--[[
  Reconcile's repair: sets the figure to what the database says is free,
  database stock less the units in open holds, and adopts every open hold
  into the figure (a = 0, see includes/counters: each one's release now gives
  its units back to it). Leaves an absent figure absent: the next load is
  the truth.

  Makes no repair while a hold is prepared or in doubt: its order may be in
  the database's figure already (prepare is the last step before the
  database commit), so database - held would count its units twice and
  lose them for good. Nor when a hold was prepared since the caller read
  ARGV[3] (before it read the database): that order may have committed to
  the database after the read and settled here since, counted on neither
  side. Nor while due holds are left to reap.

  Input:
    KEYS[1..6] figure, holds, due, dueSorted, purge, quiet
               (see includes/counters)
    ARGV[1] database stock (integer >= -1)
    ARGV[2] how long a settled hold's record is kept, ms
    ARGV[3] the prepares counter (inspectHolds-6's `prepares`) read before
            the database was, or '' to skip that check

  Output: { before, after, expired, blocker }
    before   the figure, false when absent
    after    the figure written, false when none was
    expired  how many holds this call expired (for metrics)
    blocker  why nothing was written: 'absent', 'prepared', 'in-doubt',
             'reaping' (call again), or false when written
]]
local L = {}
--- @include "includes/library"

local database, retentionMs = tonumber(ARGV[1]), tonumber(ARGV[2])
local c, now, expired = L.tidy(KEYS, retentionMs)
local before = redis.call('GET', KEYS[1])
local blocker = false
if L.isDue(c, now) then
  blocker = 'reaping'
elseif not before then
  blocker = 'absent'
elseif c.m > 0 or (ARGV[3] ~= '' and c.g ~= tonumber(ARGV[3])) then
  blocker = 'prepared'
elseif redis.call('ZCOUNT', KEYS[4], '-inf', '(0') > 0 then
  blocker = 'in-doubt'
end
local after = false
if not blocker then
  after = database
  if database ~= -1 then
    after = math.max(database - c.u, 0)
  end
  redis.call('SET', KEYS[1], after, 'KEEPTTL')
  c.a = 0
  writeHolds(KEYS, c, now)
  if needsLife(c, now + retentionMs) then
    L.keepAlive(KEYS, c, now, now + retentionMs)
  end
end
return { before and tonumber(before), after, expired, blocker }
