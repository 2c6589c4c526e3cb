--[[
  Sets or removes a session's budget (CONTRACT §10). Setting a different budget re-arms
  `session.budget_reached`: the mark is cleared and checked again at once, so a budget already
  used up (used + reserved at or above it) is reached by this very call. Setting the budget the
  session already has (a retried PUT) changes nothing: no seq, no second webhook.
  What a call raised (an alert of the time-due work, the budget reached) is kept among the
  session hash's pending raises (`wp`, lib/raised.lua, not part of the snapshot) until its webhooks
  are queued (mark-webhooks-2.lua removes it): the next call for the session, a retried PUT first
  of all, answers those as `owed` (docs/webhooks.md "The gap"). A newer raise is added beside it.

  KEYS[1] account hash  KEYS[2] holds hash  KEYS[3] audit stream  KEYS[4] the session's hash
  KEYS[5] the account's per-minute charges (lib/burn: the snapshot's forecast)
  ARGV[1] key prefix  ARGV[2] ledger retention ms  ARGV[3] session id
  ARGV[4] the budget in credits (a whole number), or "" to remove it
  Returns JSON { account, session, sessions?, burn?, budget_reached?, alert?, raised?, owed?, changed,
    deadline? } (raised: what this call kept in `wp`; owed: what earlier ones kept there, a list)
    or { error = "unknown_account" }.
]]
--- @include "lib/context"
--- @include "lib/raised"

local ctx = new_context()
ctx.burn_key = KEYS[5]
local sid, credits = ARGV[3], ARGV[4]
-- Declared before maintain, which may touch this session (an expiring hold of it).
session_declare(ctx, sid, KEYS[4])
local a, err = require_account(ctx)
if not a then return err end
-- Read before any change: what an earlier call raised, its webhooks not known to be queued.
local owed = raised_pending(session_get(ctx, sid).fields)
maintain(ctx, a)
-- Time-due work may cross a threshold here: that crossing is raised like any other.
local raised = evaluate_alerts(a)
local reached = false
if (session_get(ctx, sid).fields.budget or "") ~= credits then
  session_set(ctx, sid, "budget", credits)
  session_set(ctx, sid, "budget_reached", "")
  reached = budget_reach(ctx, sid)
end
local text = nil
-- The seq the account will have after this call (finish bumps it once if it changed): the alert's key.
if raised or reached then text = raised_text(ctx.now, a.changed and a.seq + 1 or a.seq, raised, reached) end
local out = finish(ctx, a, { alert = raised, session_of = sid, budget_reached = reached or nil, raised = text, owed = owed })
if text then
  -- Written after the session (finish), as a field of its own: no seq, no push for it. The
  -- session may have no hash yet when only the alert was raised: then it gets the retention (NX:
  -- an existing session keeps the expiry session_flush gave it, which its "xp" states).
  raised_keep(KEYS[4], owed, text)
  redis.call("PEXPIRE", KEYS[4], ctx.retention_ms, "NX")
end
return out
