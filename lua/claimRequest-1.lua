--[[
  Claims an idempotency key for a request, or reads what is already there,
  in one step (SET NX, else GET): two retries racing each other cannot both
  claim it.

  Input:
    KEYS[1] the request's record
    ARGV[1] the running record to write (JSON: state, fingerprint)
    ARGV[2] how long a running claim lasts, ms (a process that dies while
            running frees it after this)

  Output: nil when claimed now; otherwise the record already there (JSON)
]]
if redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then
  return false
end
return redis.call('GET', KEYS[1])
