--[[
  Bench only, never run by the server: the writes apply-events-5n makes for a batch, without any
  of its rules, with made-up values of realistic size. Same KEYS and ARGV layout as
  apply-events-5n. What Redis spends on it per event is the floor for any ledger that keeps the
  same guarantees in this Redis (an idempotency record per eventId, an audit entry per movement,
  the account, session, step and hold state written), wherever it computes them.
]]
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000
local minid = string.format("%d", now - 400 * 86400000)
local accounts, sessions, steps, holds = {}, {}, {}, {}

for i = 1, #KEYS / 5 do
  local k, v = 5 * (i - 1), 13 * (i - 1) + 1
  local acct = KEYS[k + 1]
  if not accounts[acct] then
    accounts[acct] = { holds = KEYS[k + 2], log = KEYS[k + 3], prefix = ARGV[v + 1] }
    -- What an optimistic writer would check before writing: the account's version.
    redis.call("HGET", acct, "seq")
  end
  local a = accounts[acct]
  local kind, sid, step = ARGV[v + 4], ARGV[v + 5], ARGV[v + 6]
  redis.call("SET", KEYS[k + 5], '{"s":"applied","c":1,"h":0}', "PX", ARGV[v + 2])
  local function entry(what)
    redis.call("XADD", a.log, "MINID", "~", minid, "*", "k", what, "amt", "3", "av", "1000", "hd", "3",
      "od", "0", "eid", ARGV[v + 3], "sid", sid, "act", ARGV[v + 7], "step", step)
  end
  -- The audit entries the real script writes for each kind of event.
  if kind == "started" then
    entry("hold")
  elseif kind == "completed" then
    entry("release")
    entry("charge")
  elseif kind == "failed" then
    entry("release")
  end
  sessions[a.prefix .. "sess:" .. sid] = true
  steps[KEYS[k + 4]] = steps[KEYS[k + 4]] or {}
  table.insert(steps[KEYS[k + 4]], step)
  holds[a.holds] = holds[a.holds] or {}
  table.insert(holds[a.holds], sid .. "/" .. step)
end

for acct, _ in pairs(accounts) do
  redis.call("HSET", acct, "seq", "1", "held", "3", "used", "10", "sub_rem", "900", "tot_charged", "100")
end
for key, _ in pairs(sessions) do
  redis.call("HSET", key, "used", "5", "reserved", "3", "seq", "2", "research", "5",
    "last", '{"eventId":"x","action":"script","amount":1,"at":1}')
  redis.call("PEXPIRE", key, 86400000)
end
-- One HSET per hash of every field in `lists[key]` set to `value` (and a TTL when given).
local function hset_all(lists, value, ttl_ms)
  for key, list in pairs(lists) do
    local args = {}
    for _, field in ipairs(list) do
      args[#args + 1] = field
      args[#args + 1] = value
    end
    redis.call("HSET", key, unpack(args))
    if ttl_ms then redis.call("PEXPIRE", key, ttl_ms) end
  end
end
hset_all(steps, "held", 86400000)
hset_all(holds, '{"a":3,"x":1,"n":1,"s":"s"}')
return #KEYS / 5
