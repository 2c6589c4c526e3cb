--[[
  A session's snapshot with what its forecast needs (CONTRACT §4, §10): the account after the
  time-due work every read does (lib/maintain, as touch-3), the session's totals and, when it has
  a plan, the account's recent spend (lib/burn), all at one instant of the script's clock.

  KEYS[1] account hash  KEYS[2] holds hash  KEYS[3] audit stream  KEYS[4] the session's totals  KEYS[5] the account's per-minute charges (lib/burn)
  ARGV[1] key prefix  ARGV[2] ledger retention ms  ARGV[3] sessionId
  An alert the time-due work raised is kept among the account hash's pending raises (`wp`,
  lib/raised.lua), as touch-3.lua keeps its own, and those still pending are answered as `owed`: the read queues it in the
  background, and if that is lost the sweeper's next touch (the index entry stays due) owes it
  again (docs/webhooks.md "The gap").
  Returns JSON { account, session, burn?, sessions?, raised?, owed?, changed, ... } or { error = "unknown_account" }.
]]
--- @include "lib/context"
--- @include "lib/raised"

local ctx = new_context()
ctx.burn_key = KEYS[5]
-- Declared before maintain, which may touch this session (an expiring hold of it).
session_declare(ctx, ARGV[3], KEYS[4])
local a, err = require_account(ctx)
if not a then return err end
-- load_account keeps every field of the hash: `wp` and `wr` are ones save_account never writes.
local owed = raised_pending(a)
maintain(ctx, a)
local alert = evaluate_alerts(a)
-- The seq the account will have after this call (finish bumps it once if it changed): the alert's key.
local text = alert and raised_text(ctx.now, a.changed and a.seq + 1 or a.seq, alert, false) or nil
local out = finish(ctx, a, { session_of = ARGV[3], alert = alert, raised = text, owed = owed })
if text then raised_keep(KEYS[1], owed, text) end
return out
