--[[
  Starts a billing cycle (CONTRACT §3): the previous subscription credits are forfeited (no
  rollover), a new subscription bucket of `credits` expires at `end`, and `used` counts from
  `start` (charges already applied since `start` are counted from the audit trail).

  KEYS[1] account hash  KEYS[2] holds hash  KEYS[3] audit stream  KEYS[4] the grant's record
  KEYS[5] the pre-v1.1 grants hash (read only; lib/grants.lua)
  ARGV[1] key prefix  ARGV[2] ledger retention ms  ARGV[3] cycleId  ARGV[4] credits
  ARGV[5] start ms  ARGV[6] end ms  ARGV[7] canonical body
  Returns JSON { account, alert?, ... } or { error = "unknown_account" | "conflict" }; a cycle
  that does not start after the current one is { error = "conflict", reason = "older_cycle", current }.
]]
--- @include "lib/context"
--- @include "lib/grants"

local ctx = new_context()
local a, err = require_account(ctx)
if not a then return err end
local seen, first_answer = grant_seen("cycle:" .. ARGV[3], ARGV[7])
if seen == "conflict" then return cjson.encode({ error = "conflict" }) end
if seen == "repeat" then return grant_repeat(ctx, a, first_answer) end

local credits, start_ms, end_ms = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
-- Billing systems deliver out of order (CONTRACT §3 v1.1): a new cycle that does not start
-- after the current one is a late, older cycle; it changes nothing (not even time-due work).
if a.sub_id ~= "" and start_ms <= a.sub_start then
  return cjson.encode({ error = "conflict", reason = "older_cycle", current = a.sub_id })
end

maintain(ctx, a)

if a.sub_rem > 0 then
  local gone = a.sub_rem
  a.sub_rem = 0
  a.tot_forfeited = a.tot_forfeited + gone
  audit(ctx, a, "forfeit", gone, { "bucket", a.sub_id })
end

a.sub_id, a.sub_granted, a.sub_start, a.sub_end = ARGV[3], credits, start_ms, end_ms
a.sub_rem = grant_credits(a, credits)

-- used counts charges applied since start (none when start is still ahead).
local used = 0
if start_ms <= ctx.now then
  -- A start before 1970 is a negative time; stream ids begin at 0.
  local cursor = fmt(math.max(start_ms, 0))
  repeat
    local batch = redis.call("XRANGE", ctx.log, cursor, "+", "COUNT", 500)
    for _, entry in ipairs(batch) do
      local f, kind, amount = entry[2], nil, 0
      for i = 1, #f, 2 do
        if f[i] == "k" then kind = f[i + 1] elseif f[i] == "amt" then amount = tonumber(f[i + 1]) end
      end
      if kind == "charge" then used = used + amount end
    end
    if #batch > 0 then cursor = "(" .. batch[#batch][1] end
  until #batch < 500
end
a.used = used
a.changed = true
audit(ctx, a, "grant", credits, { "bucket", ARGV[3], "kind", "subscription" })
-- A cycle whose end has already passed is expired at once.
a.next_deadline = nil
maintain(ctx, a)
shrink_holds(ctx, a)
local reply = { alert = evaluate_alerts(a) }
return grant_commit(ctx, a, ARGV[7], reply)
