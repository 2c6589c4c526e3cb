--[[
  Starts a billing cycle (CONTRACT §3): the previous subscription credits are forfeited (no
  rollover), a new subscription bucket of `credits` expires at `end`, and `used` counts from
  `start`: charges already applied since `start` count, found in O(1) from the running total
  every audit entry carries (`cum`; a packed entry, the total before its first movement),
  however far back `start` is.

  KEYS[1] account hash  KEYS[2] holds hash  KEYS[3] audit stream  KEYS[4] the grant's record
  KEYS[5] the pre-v1.1 grants hash (read only; lib/grants.lua)
  ARGV[1] key prefix  ARGV[2] ledger retention ms  ARGV[3] cycleId  ARGV[4] credits
  ARGV[5] start ms  ARGV[6] end ms  ARGV[7] canonical body
  ARGV[8] "" or the id of the last pre-v1.1 audit entry (no `cum`) the caller summed from `start`
  ARGV[9] the charges of those entries (0 when ARGV[8] is "")
  ARGV[10] actor (as add-pack-5; "" when unknown)
  ARGV[11] "" or the trim marker below which the caller summed the charges since `start` from the
  history archive into ARGV[9] (docs/history.md)
  Returns JSON { account, alert?, ... } or { error = "unknown_account" | "conflict" }; a cycle
  that does not start after the current one is { error = "conflict", reason = "older_cycle", current }.
  { needs_legacy_sum = true } (nothing written): an entry without `cum` lies after `start` (or
  after ARGV[8]); the caller sums the charges of such entries outside the script (not blocking
  Redis) up to the first entry with `cum`, and calls again.
  { needs_archive_sum = true, trimmed } (nothing written): `start` lies below the trail's trim
  marker (the read-only `<prefix>trimmed`, lua/trim-log-2.lua) and ARGV[11] is not that marker:
  the caller sums the archived charges in [start, trimmed) and calls again with ARGV[11] = trimmed.
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

-- Entries below the marker may be gone from Redis: their charges come from the archive (ARGV[9]).
-- No marker (0) means nothing was ever trimmed: a start before 1970 (negative) is not below it.
local trimmed = tonumber(redis.call("GET", ARGV[1] .. "trimmed") or "0")
if trimmed > 0 and start_ms < trimmed and start_ms <= ctx.now and tonumber(ARGV[11]) ~= trimmed then
  return cjson.encode({ needs_archive_sum = true, trimmed = fmt(trimmed) })
end

-- The charges applied since `start`, or nil when entries without `cum` must be summed first.
local function used_since(start_ms, legacy_after, legacy_sum)
  if start_ms > ctx.now then return 0 end
  -- A start before 1970 is a negative time; stream ids begin at 0. Below the trim marker the
  -- charges are in legacy_sum already (from the archive).
  local from = legacy_after ~= "" and ("(" .. legacy_after) or fmt(math.max(start_ms, trimmed, 0))
  local first = redis.call("XRANGE", ctx.log, from, "+", "COUNT", 1)[1]
  if not first then return legacy_sum end
  local f, cum, kind, amount = first[2], nil, nil, 0
  for i = 1, #f, 2 do
    local name = f[i]
    if name == "cum" then cum = tonumber(f[i + 1])
    elseif name == "k" then kind = f[i + 1]
    elseif name == "amt" then amount = tonumber(f[i + 1])
    -- A packed entry (lib/audit) starts with the running total before its first movement.
    elseif name == "m" then cum, kind = tonumber(string.match(f[i + 1], "^(%d+)")), "packed" end
  end
  if not cum then return nil end
  -- cum counts this entry's own charge; everything charged before it is cum minus that.
  local before = cum - ((kind == "charge") and amount or 0)
  return legacy_sum + a.tot_charged - before
end
local used = used_since(start_ms, ARGV[8], tonumber(ARGV[9]))
if used == nil then return cjson.encode({ needs_legacy_sum = true }) end

maintain(ctx, a)

if a.sub_rem > 0 then
  local gone = a.sub_rem
  a.sub_rem = 0
  a.tot_forfeited = a.tot_forfeited + gone
  audit(ctx, a, "forfeit", gone, { "bucket", a.sub_id })
end

a.sub_id, a.sub_granted, a.sub_start, a.sub_end = ARGV[3], credits, start_ms, end_ms
a.sub_rem = grant_credits(a, credits)

a.used = used
a.changed = true
audit(ctx, a, "grant", credits, { "bucket", ARGV[3], "kind", "subscription", "actor", ARGV[10] })
-- A cycle whose end has already passed is expired at once.
a.next_deadline = nil
maintain(ctx, a)
shrink_holds(ctx, a)
local reply = { alert = evaluate_alerts(a) }
return grant_commit(ctx, a, ARGV[7], reply)
