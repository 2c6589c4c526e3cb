--[[
  Records the work a session expects to do (CONTRACT §10): the plan's total on the free, plus and
  pro plans, priced by the caller (shared quoteOnEveryPlan), so that the forecast follows the
  account's plan as the ledger would charge it. A session change: its seq grows and its snapshot
  (with the forecast) is pushed. Setting the same plan again is harmless (seq + 1, same numbers).

  KEYS[1] account hash  KEYS[2] holds hash  KEYS[3] audit stream  KEYS[4] the session's totals  KEYS[5] the account's per-minute charges (lib/burn)
  KEYS[6] the account's planned sessions (lib/plans)
  ARGV[1] key prefix  ARGV[2] ledger retention ms  ARGV[3] sessionId
  ARGV[4] "<free> <plus> <pro>" credits, or "" to remove the plan
  Returns JSON { account, session, sessions, burn?, ... } or { error = "unknown_account" }.
]]
--- @include "lib/context"

local ctx = new_context()
ctx.burn_key = KEYS[5]
ctx.plans_key = KEYS[6]
local sid = ARGV[3]
-- Declared before maintain, which may touch this session (an expiring hold of it).
session_declare(ctx, sid, KEYS[4])
local a, err = require_account(ctx)
if not a then return err end
maintain(ctx, a)
plans_check(ctx)
session_set(ctx, sid, "planned", ARGV[4])
-- Every read before the first write: the forecast's counters, then the index of planned sessions.
burn_prepare(ctx, ctx.touched)
plans_record(ctx, sid, ARGV[4])
return finish(ctx, a, { session_of = sid, alert = evaluate_alerts(a) })
