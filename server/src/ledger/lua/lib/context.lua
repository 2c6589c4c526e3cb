--- @include "lib/account"
--- @include "lib/audit"
--- @include "lib/session"
--- @include "lib/burn"
--- @include "lib/plans"
--- @include "lib/holds"
--- @include "lib/steps"
--- @include "lib/idem"
--- @include "lib/maintain"
--- @include "lib/alerts"

--[[
  What every account script shares: the Redis clock, the account key prefix (which carries the
  {account} hash tag, so every derived key lives in the account's slot), and the reply.
  Every account script's KEYS[1] is the account hash, KEYS[2] its holds, KEYS[3] its audit
  stream; ARGV[1] the key prefix, ARGV[2] the ledger retention in ms (see retention_and_clock).
]]
local function redis_now()
  local t = redis.call("TIME")
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- The retention argument is "<ms>", or "<ms>@<now ms>" from a test's virtual clock (RedisLedger's
-- `virtualClock`, which no configuration sets: the wrapper builds this argument from numbers
-- alone). Returns the retention, the clock and whether it is virtual.
local function retention_and_clock(arg)
  local retention, at = string.match(arg, "^(%d+)@(%d+)$")
  if retention then return tonumber(retention), tonumber(at), true end
  return tonumber(arg), redis_now(), false
end

-- The context of one account; a batch script holds one per account it touches. Made before any
-- write, so it checks the one key no script reads before writing it (lib/audit).
-- `virtual`: the clock is a test's, so audit entries take their ids from it (lib/audit).
local function account_context(acct, holds, log, prefix, retention_ms, now, virtual)
  audit_check(log, now, virtual)
  return { now = now, virtual = virtual, acct = acct, holds = holds, log = log, prefix = prefix,
    retention_ms = retention_ms, touched = {}, sessions = {} }
end

local function new_context()
  local retention_ms, now, virtual = retention_and_clock(ARGV[2])
  return account_context(KEYS[1], KEYS[2], KEYS[3], ARGV[1], retention_ms, now, virtual)
end

-- Totals are sent as decimal strings: cjson keeps only 14 significant digits of a number.
local function account_view(a)
  local alert = current_alert(a)
  if alert then alert = { level = alert.level, credits = fmt(alert.credits) } end
  return {
    plan = a.plan, seq = num_text(a, "seq"), created = num_text(a, "created"),
    sub_id = a.sub_id, sub_granted = num_text(a, "sub_granted"), sub_rem = num_text(a, "sub_rem"),
    sub_start = num_text(a, "sub_start"), sub_end = num_text(a, "sub_end"),
    packs = a.packs, held = num_text(a, "held"), overdraft = num_text(a, "overdraft"), used = num_text(a, "used"),
    alert = alert, alert_dismissed = a.alert_dismissed,
  }
end

-- Writes the account back (bumping seq once when it changed) and its sessions; returns whether
-- the next deadline moved (only then does it go to the sweeper's index).
local function close_account(ctx, a)
  local moved = (a.next_deadline or "") ~= a.deadline_loaded
  if a.changed then
    a.seq = a.seq + 1
    save_account(ctx.acct, a)
  elseif moved then
    -- A deadline that came early found nothing due: keep the recomputed one, or the sweeper
    -- would come back to this account every pass.
    redis.call("HSET", ctx.acct, "next_deadline", a.next_deadline or "")
  end
  holds_flush(ctx)
  session_flush(ctx)
  burn_flush(ctx)
  return moved
end

local function alert_reply(alert)
  if not alert then return nil end
  return { level = alert.level, threshold = fmt(alert.threshold), available = fmt(alert.available) }
end

-- Writes the account back and encodes the reply of a one-account script for TypeScript.
local function finish(ctx, a, reply)
  -- A planned session's forecast needs the account's recent spend: read before the first write.
  burn_prepare(ctx, ctx.touched)
  if reply.session_of then burn_prepare(ctx, { [reply.session_of] = true }) end
  local moved = close_account(ctx, a)
  audit_flush(ctx)
  reply.now = ctx.now
  reply.changed = a.changed
  reply.account = account_view(a)
  reply.alert = alert_reply(reply.alert)
  if moved then reply.deadline = a.next_deadline end
  if reply.session_of then
    reply.session = session_snapshot(ctx, reply.session_of)
    reply.session_of = nil
  end
  local sessions = {}
  local any = false
  for sid, _ in pairs(ctx.touched) do
    sessions[sid] = session_snapshot(ctx, sid)
    any = true
  end
  if any then reply.sessions = sessions end
  if ctx.burn then reply.burn = fmt(burn_total(ctx)) end
  return cjson.encode(reply)
end

local function require_account(ctx)
  local a = load_account(ctx.acct)
  if not a then return nil, cjson.encode({ error = "unknown_account" }) end
  return a, nil
end
