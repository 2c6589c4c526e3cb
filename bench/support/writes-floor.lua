--[[
  Bench only, never run by the server: the writes apply-events-4a makes for a batch, without any
  of its rules, with made-up values of realistic size. Same KEYS and ARGV layout as
  apply-events-4a. What Redis spends on it per event is the floor for any ledger that keeps the
  same guarantees in this Redis (an idempotency record per eventId, an audit entry per movement,
  the account, session, step and hold state written), wherever it computes them.
]]
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000
local minid = string.format("%d", now - 400 * 86400000)
local accounts, sessions, holds = {}, {}, {}
-- The event's kind by its fingerprint's first letter; the arguments after the first five.
local MORE = { [115] = 2, [99] = 5, [112] = 0, [102] = 0 }
local KIND = { [115] = "started", [99] = "completed", [112] = "progress", [102] = "failed" }

local v = 3
for j = 1, #KEYS / 4 do
  local k = 4 * (j - 1)
  local acct = KEYS[k + 1]
  local a = { holds = KEYS[k + 2], log = KEYS[k + 3], prefix = ARGV[v + 1], burn = KEYS[k + 4] }
  accounts[acct] = a
  -- What an optimistic writer would check before writing: the account's version.
  redis.call("HGET", acct, "seq")
  local count = tonumber(ARGV[v + 2])
  v = v + 2
  for _ = 1, count do
    local fparg, id, sid, step, action = ARGV[v + 1], ARGV[v + 2], ARGV[v + 3], ARGV[v + 4], ARGV[v + 5]
    -- The idempotency record and step state: fields of the account's generation (lib/idem.lua).
    a.ids = a.ids or {}
    -- As lib/idem-record writes most records: under the field's first 14 characters, the short form
    -- (upper-case code, the fingerprint's first 17, three base64url numbers, its rest); a UUID
    -- eventId's packed audit form (23 characters from 43) is not part of the fingerprint.
    local fp = string.sub(fparg, 43)
    if string.sub(fp, 1, 1) == "." then fp = string.sub(fp, 24) end
    local kind = KIND[string.byte(fp, 1)]
    v = v + 5 + MORE[string.byte(fp, 1)]
    a.ids[#a.ids + 1] = string.sub(fparg, 1, 14)
    a.ids[#a.ids + 1] = "A" .. string.sub(fp, 1, 17) .. "B,F1yG,Q" .. string.gsub(string.sub(fp, 18), ",+$", "")
    a.steps = a.steps or {}
    a.steps[string.sub(fparg, 29, 42)] = string.sub(kind, 1, 1)
    -- A movement as lib/audit packs it: letter, amount, the balances (left out when derivable),
    -- then eventId, session, action and step ("^" when the same as the movement before).
    a.moves = a.moves or {}
    local function entry(what)
      local first = #a.moves == 0
      a.moves[#a.moves + 1] = table.concat({ what, "3", first and "1000" or "", first and "3" or "",
        first and "0" or "", id, a.last_sid == sid and "^" or sid, action, step }, ",")
      a.last_sid = sid
    end
    -- The audit entries the real script writes for each kind of event.
    if kind == "started" then
      entry("hold")
    elseif kind == "completed" then
      entry("release")
      entry("charge")
      a.charged = true
    elseif kind == "failed" then
      entry("release")
    end
    sessions[a.prefix .. "sess:" .. sid] = true
    holds[a.holds] = holds[a.holds] or {}
    table.insert(holds[a.holds], sid .. "/" .. step)
  end
end

-- One packed entry per account (lib/audit audit_write_run): its id is the first movement's, and
-- XSETID reserves one id per further movement.
for _, a in pairs(accounts) do
  if a.moves and #a.moves > 0 then
    local id = redis.call("XADD", a.log, "MINID", "~", minid, "*", "m", "1000|" .. table.concat(a.moves, "|"))
    if #a.moves > 1 then
      local ms, seq = string.match(id, "^(%d+)-(%d+)$")
      redis.call("XSETID", a.log, ms .. "-" .. string.format("%d", tonumber(seq) + #a.moves - 1))
    end
  end
end
for acct, a in pairs(accounts) do
  redis.call("HSET", acct, "seq", "1", "held", "3", "used", "10", "sub_rem", "900", "tot_charged", "100")
  -- The minute's charges of an account charged in the batch (the forecast's burn rate).
  if a.charged then
    redis.call("HSET", a.burn, "29000000", "100")
    redis.call("PEXPIRE", a.burn, 420000)
  end
end
for key, _ in pairs(sessions) do
  redis.call("HSET", key, "used", "5", "reserved", "3", "seq", "2", "research", "5",
    "last", '{"eventId":"x","action":"script","amount":1,"at":1}')
  redis.call("PEXPIRE", key, 86400000)
end
-- One HSET per hash of every field in `lists[key]` set to `value` (and a TTL when given).
for _, a in pairs(accounts) do
  for field, state in pairs(a.steps) do
    a.ids[#a.ids + 1] = field
    a.ids[#a.ids + 1] = state
  end
  local key = a.prefix .. "ids:" .. string.format("%d", math.floor(now / 1296000000))
  redis.call("HSET", key, unpack(a.ids))
  if redis.call("PEXPIRE", key, 3 * 1296000000, "NX") == 1 then redis.call("HSET", key, "~", string.rep("x", 65)) end
end
-- One HSET per holds hash of every field in `lists[key]`.
for key, list in pairs(holds) do
  local args = {}
  for _, field in ipairs(list) do
    args[#args + 1] = field
    args[#args + 1] = '{"a":3,"x":1,"n":1,"s":"s"}'
  end
  redis.call("HSET", key, unpack(args))
end
return v
