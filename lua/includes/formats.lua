--[[
  The binary layouts (struct formats) of an item's counters, records and
  tickets (see includes/counters and includes/records): constants only, so
  that the hot scripts' quick paths can read and write them without making
  the functions that decode them.
]]
-- The counters: d n u e a m t p l f k g, doubles (exact below 2^53).
local COUNTERS = '>dddddddddddd'
-- A record: state letter, qty, epoch, expiry (ms), code; a limited hold's
-- record goes on with the units its customer was counted for, then the
-- customer.
local RECORD = '>c1I4I4I6i4'
local CUSTOMER_UNITS = '>I4'
-- A ticket's time (ms), before its nonce.
local TICKET_TIME = '>I6'
-- The holds hash's fields (see includes/counters): a hold's nonce is this
-- long (22 characters of base64url, lib/store/hold-id.ts), a customer's
-- digest shorter (16, lib/store/customer.ts), the counters' '#' one.
local NONCE_LENGTH = 22
