--[[
  A hold's record, the value of its field in the holds hash (see
  includes/counters), packed: state (a letter), qty, epoch, expiry (ms),
  code (the reserve's answer: units left, or -1).

  States, open (keeping their units): h held; p prepared (phase one of a
  commit: expiry no longer gives the units back); d in-doubt (prepared, then
  due before its commit: only the database can say whether its order
  committed). Settled: c committed, r released, x expired. Scripts answer
  with these letters; lib/scripts/replies.ts names them.

  qty is 0 for unlimited stock; epoch, the figure's generation the units
  were taken from; code, for a resent call's answer.

  A ticket: the time (ms) packed in six bytes, then the nonce.
]]
--- @include "includes/formats"

local function decodeHold(raw)
  local s, q, e, x, r = struct.unpack(RECORD, raw)
  return { s = s, q = q, e = e, x = x, r = r }
end

local function encodeHold(hold)
  return struct.pack(RECORD, hold.s, hold.q, hold.e, hold.x, hold.r)
end

-- Whether a hold keeps its units.
local function isOpen(hold)
  return hold.s == 'h' or hold.s == 'p' or hold.s == 'd'
end

local function ticket(at, id)
  return struct.pack(TICKET_TIME, at) .. id
end

-- A ticket's time and nonce.
local function parseTicket(raw)
  return struct.unpack(TICKET_TIME, raw), string.sub(raw, 7)
end
