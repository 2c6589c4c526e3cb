--[[
  Creates or updates an account (CONTRACT §3): plan and low-balance thresholds; no credits.
  Thresholds changed re-evaluate the alert states (a crossing can fire here too). An alert raised
  here is kept among the account hash's pending raises (`wp`, lib/raised.lua), as touch-3.lua
  keeps its own, until its webhooks are queued (mark-webhooks-2.lua removes it): the ops route answers
  once they are, and its retried PUT, a repeat, answers the alert as `owed` (docs/webhooks.md
  "The gap"). A newer raise is added beside it.

  KEYS[1] account hash  KEYS[2] holds hash  KEYS[3] audit stream
  ARGV[1] key prefix  ARGV[2] ledger retention ms  ARGV[3] plan  ARGV[4] thresholds JSON
  Returns JSON { account, alert?, raised?, owed?, created, ... }.
]]
--- @include "lib/context"
--- @include "lib/raised"

local ctx = new_context()
local a = load_account(ctx.acct)
local created = false
-- Read before any change: what an earlier call raised, its webhooks not known to be queued.
local owed = a and raised_pending(a) or nil
if not a then
  created = true
  a = { plan = ARGV[3], created = ctx.now, seq = 0, sub_id = "", sub_granted = 0, sub_rem = 0, sub_start = 0,
    sub_end = 0, packs = {}, held = 0, overdraft = 0, used = 0, alerts = {}, alert_dismissed = "",
    tot_granted = 0, tot_charged = 0, tot_debited = 0, tot_expired = 0, tot_forfeited = 0, next_deadline = "" }
end
maintain(ctx, a)
local thresholds = cjson.decode(ARGV[4])
if created or a.plan ~= ARGV[3] or cjson.encode(a.thresholds) ~= cjson.encode(thresholds) then
  -- Another plan prices the planned sessions differently (images are free on plus and pro): re-push them.
  if not created and a.plan ~= ARGV[3] then plans_refresh(ctx) end
  a.plan = ARGV[3]
  a.thresholds = thresholds
  a.thresholds_dirty = true
  a.changed = true
end
local alert = evaluate_alerts(a)
-- The seq the account will have after this call (finish bumps it once if it changed): the alert's key.
local text = alert and raised_text(ctx.now, a.changed and a.seq + 1 or a.seq, alert, false) or nil
local reply = finish(ctx, a, { alert = alert, created = created, raised = text, owed = owed })
-- Created with the compact idempotency layout and its 14-character names: no record of a layout
-- before can exist (lib/idem).
if created then redis.call("HSET", ctx.acct, "ix", "n" .. fmt(ctx.now), "iy", "-1") end
if text then raised_keep(ctx.acct, owed, text) end
return reply
