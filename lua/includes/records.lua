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
  were taken from; code, for a resent call's answer. A hold counted toward
  its customer's limit (see includes/counters) also keeps the units counted
  (w: qty asked for, even of unlimited stock) and the customer (who).

  A ticket: the time (ms) packed in six bytes, then the nonce.
]]
--- @include "includes/formats"

local function decodeHold(raw)
  local s, q, e, x, r, rest = struct.unpack(RECORD, raw)
  local hold = { s = s, q = q, e = e, x = x, r = r }
  if rest <= #raw then
    hold.w, rest = struct.unpack(CUSTOMER_UNITS, raw, rest)
    hold.who = string.sub(raw, rest)
  end
  return hold
end

local function encodeHold(hold)
  local record = struct.pack(RECORD, hold.s, hold.q, hold.e, hold.x, hold.r)
  if hold.who then
    record = record .. struct.pack(CUSTOMER_UNITS, hold.w) .. hold.who
  end
  return record
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
