--[[
  Bench only, never run by the server: the commit of a "the consumer computes, Redis commits"
  design (docs/performance.md "The commit-only floor"). The consumer has computed the batch's
  outcome; this script only checks that nothing moved under it and writes precomputed values. It
  builds no record, entry or field in Lua: each write takes a range of ARGV as it is (unpack), so
  what Redis spends on it is the floor of that design's commit for these writes.

  KEYS, four per account j as writes-floor.lua: account hash, holds hash, audit stream, burn hash.
  ARGV[1] MINID of the audit trail, ARGV[2] the number of accounts n; then per account (in KEYS
  order) its checks: the version it was computed from (the account's `seq`, "" for none), its
  idempotency generation's key, e, then its e event fields (each must be absent); then per account
  its writes, each "<count>" followed by count arguments:
    the account hash's fields and values (HSET),
    the idempotency fields and values (records and step states, HSET), then the generation's expiry ms (PEXPIRE GT),
    the movements k in the packed audit entry and its text ("" when k = 0: XADD, and XSETID when k > 1),
    the holds to delete (HDEL), the holds' fields and values (HSET),
    the burn hash's fields and values (HSET), then its expiry ms ("" none),
    s sessions, each: its key, its expiry ms ("" none), then its fields and values (HSET).
  Returns 1 when committed; { 0, j } when account j (1-based) moved or one of its events has a
  record already: nothing written, the consumer re-reads and recomputes.
]]
local n = tonumber(ARGV[2])
local v = 2
-- Every check before the first write: a script that fails halfway is not rolled back.
for j = 1, n do
  local acct = KEYS[4 * j - 3]
  if (redis.call("HGET", acct, "seq") or "") ~= ARGV[v + 1] then return { 0, j } end
  local e = tonumber(ARGV[v + 3])
  if e > 0 then
    local r = redis.call("HMGET", ARGV[v + 2], unpack(ARGV, v + 4, v + 3 + e))
    for i = 1, e do
      if r[i] then return { 0, j } end
    end
  end
  v = v + 3 + e
end

-- The next `count` arguments as one command's tail (HSET/HDEL key ...); returns the index after them.
local function run(cmd, key, at)
  local count = tonumber(ARGV[at])
  if count > 0 then redis.call(cmd, key, unpack(ARGV, at + 1, at + count)) end
  return at + count + 1
end

local at = v + 1
-- The checks again, for each account's idempotency key.
local ids = 2
for j = 1, n do
  local k = 4 * (j - 1)
  local idem = ARGV[ids + 2]
  ids = ids + 3 + tonumber(ARGV[ids + 3])
  at = run("HSET", KEYS[k + 1], at)
  local before = at
  at = run("HSET", idem, at)
  if at > before + 1 then redis.call("PEXPIRE", idem, ARGV[at], "GT") end
  at = at + 1
  local moves = tonumber(ARGV[at])
  if moves > 0 then
    local id = redis.call("XADD", KEYS[k + 3], "MINID", "~", ARGV[1], "*", "m", ARGV[at + 1])
    if moves > 1 then
      -- As lib/audit: every movement keeps its own id, the next entry gets one above them all.
      local ms, seq = string.match(id, "^(%d+)-(%d+)$")
      redis.call("XSETID", KEYS[k + 3], ms .. "-" .. string.format("%d", tonumber(seq) + moves - 1))
    end
  end
  at = run("HDEL", KEYS[k + 2], at + 2)
  at = run("HSET", KEYS[k + 2], at)
  at = run("HSET", KEYS[k + 4], at)
  if ARGV[at] ~= "" then redis.call("PEXPIRE", KEYS[k + 4], ARGV[at]) end
  local sessions = tonumber(ARGV[at + 1])
  at = at + 2
  for _ = 1, sessions do
    local key, ttl = ARGV[at], ARGV[at + 1]
    at = run("HSET", key, at + 2)
    if ttl ~= "" then redis.call("PEXPIRE", key, ttl) end
  end
end
if at ~= #ARGV + 1 then return redis.error_reply("ERR commit-floor: layout read to " .. at .. " of " .. #ARGV) end
return 1
