--[[
  Hides the showing alert of a level until the next crossing (CONTRACT §7); persisted so a
  reconnecting panel keeps it hidden. Dismissing a level that is not showing changes nothing.

  KEYS[1] account hash  KEYS[2] holds hash  KEYS[3] audit stream
  ARGV[1] key prefix  ARGV[2] ledger retention ms  ARGV[3] level
  An alert the time-due work raised is kept among the account hash's pending raises (`wp`,
  lib/raised.lua), as touch-3.lua keeps its own, until its webhooks are queued (mark-webhooks-2.lua
  removes it); those still pending are answered as `owed`: the panel is acked once it is queued, and its retry owes it again
  (docs/webhooks.md "The gap"). A newer raise is added beside it.
  Returns JSON { account, alert?, raised?, owed?, ... } or { error = "unknown_account" }.
]]
--- @include "lib/context"
--- @include "lib/raised"

local ctx = new_context()
local a, err = require_account(ctx)
if not a then return err end
-- load_account keeps every field of the hash: `wp` and `wr` are ones save_account never writes.
local owed = raised_pending(a)
maintain(ctx, a)
-- Time-due work may cross a threshold here: that crossing is raised like any other.
local raised = evaluate_alerts(a)
local showing = current_alert(a)
if showing and showing.level == ARGV[3] and a.alert_dismissed == "" then
  a.alert_dismissed = ARGV[3]
  a.changed = true
end
-- The seq the account will have after this call (finish bumps it once if it changed): the alert's key.
local text = raised and raised_text(ctx.now, a.changed and a.seq + 1 or a.seq, raised, false) or nil
local out = finish(ctx, a, { alert = raised, raised = text, owed = owed })
if text then raised_keep(KEYS[1], owed, text) end
return out
