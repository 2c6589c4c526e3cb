--[[
  Bench only, never run by the server: what a consumer that computes a batch itself must read
  first (docs/performance.md "The commit-only floor"), in one call: per account its hash, the
  batch's idempotency fields and step states in its generation, the holds its events may end, and
  the sessions they touch, all returned as read.
  KEYS, four per account as commit-floor.lua. ARGV[1] the number of accounts; then per account:
  its idempotency generation's key, f and f fields (each event's field and its step's), h and h
  hold fields, s and s session keys.
]]
local out, v = {}, 1
for j = 1, tonumber(ARGV[1]) do
  local k = 4 * (j - 1)
  out[#out + 1] = redis.call("HGETALL", KEYS[k + 1])
  local f = tonumber(ARGV[v + 2])
  out[#out + 1] = redis.call("HMGET", ARGV[v + 1], unpack(ARGV, v + 3, v + 2 + f))
  v = v + 3 + f
  local h = tonumber(ARGV[v])
  if h > 0 then out[#out + 1] = redis.call("HMGET", KEYS[k + 2], unpack(ARGV, v + 1, v + h)) end
  v = v + h + 1
  for i = v + 1, v + tonumber(ARGV[v]) do out[#out + 1] = redis.call("HGETALL", ARGV[i]) end
  v = v + tonumber(ARGV[v])
end
return out
