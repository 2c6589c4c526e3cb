--[[
  Sets or removes a session's budget (CONTRACT §10). Setting a different budget re-arms
  `session.budget_reached`: the mark is cleared and checked again at once, so a budget already
  used up (used + reserved at or above it) is reached by this very call. Setting the budget the
  session already has (a retried PUT) changes nothing: no seq, no second webhook.

  KEYS[1] account hash  KEYS[2] holds hash  KEYS[3] audit stream  KEYS[4] the session's hash
  KEYS[5] the account's per-minute charges (lib/burn: the snapshot's forecast)
  ARGV[1] key prefix  ARGV[2] ledger retention ms  ARGV[3] session id
  ARGV[4] the budget in credits (a whole number), or "" to remove it
  Returns JSON { account, session, sessions?, burn?, budget_reached?, alert?, changed, deadline? }
    or { error = "unknown_account" }.
]]
--- @include "lib/context"

local ctx = new_context()
ctx.burn_key = KEYS[5]
local sid, credits = ARGV[3], ARGV[4]
-- Declared before maintain, which may touch this session (an expiring hold of it).
session_declare(ctx, sid, KEYS[4])
local a, err = require_account(ctx)
if not a then return err end
maintain(ctx, a)
-- Time-due work may cross a threshold here: that crossing is raised like any other.
local raised = evaluate_alerts(a)
local reached = false
if (session_get(ctx, sid).fields.budget or "") ~= credits then
  session_set(ctx, sid, "budget", credits)
  session_set(ctx, sid, "budget_reached", "")
  reached = budget_reach(ctx, sid)
end
return finish(ctx, a, { alert = raised, session_of = sid, budget_reached = reached or nil })
