--[[
  Records the work a session expects to do (CONTRACT §10): the plan's total on the free, plus and
  pro plans, priced by the caller (shared quoteOnEveryPlan), so that the forecast follows the
  account's plan as the ledger would charge it. A session change: its seq grows and its snapshot
  (with the forecast) is pushed. Setting the same plan again is harmless (seq + 1, same numbers).

  KEYS[1] account hash  KEYS[2] holds hash  KEYS[3] audit stream  KEYS[4] the session's totals  KEYS[5] the account's per-minute charges (lib/burn)
  KEYS[6] the account's planned sessions (lib/plans)
  ARGV[1] key prefix  ARGV[2] ledger retention ms  ARGV[3] sessionId
  ARGV[4] "<free> <plus> <pro>" credits, or "" to remove the plan
  An alert the time-due work raised is kept among the account hash's pending raises (`wp`,
  lib/raised.lua), as touch-3.lua keeps its own, until its webhooks are queued (mark-webhooks-2.lua
  removes it); those still pending are answered as `owed`: the route answers once it is queued, and its retry owes it again
  (docs/webhooks.md "The gap"). A newer raise is added beside it.
  Returns JSON { account, session, sessions, burn?, raised?, owed?, ... } or { error = "unknown_account" }.
]]
--- @include "lib/context"
--- @include "lib/raised"

local ctx = new_context()
ctx.burn_key = KEYS[5]
ctx.plans_key = KEYS[6]
local sid = ARGV[3]
-- Declared before maintain, which may touch this session (an expiring hold of it).
session_declare(ctx, sid, KEYS[4])
local a, err = require_account(ctx)
if not a then return err end
-- load_account keeps every field of the hash: `wp` and `wr` are ones save_account never writes.
local owed = raised_pending(a)
maintain(ctx, a)
plans_check(ctx)
session_set(ctx, sid, "planned", ARGV[4])
-- Every read before the first write: the forecast's counters, then the index of planned sessions.
burn_prepare(ctx, ctx.touched)
plans_record(ctx, sid, ARGV[4])
local alert = evaluate_alerts(a)
-- The seq the account will have after this call (finish bumps it once if it changed): the alert's key.
local text = alert and raised_text(ctx.now, a.changed and a.seq + 1 or a.seq, alert, false) or nil
local out = finish(ctx, a, { session_of = sid, alert = alert, raised = text, owed = owed })
if text then raised_keep(KEYS[1], owed, text) end
return out
