--[[
  Hides the showing alert of a level until the next crossing (CONTRACT §7); persisted so a
  reconnecting panel keeps it hidden. Dismissing a level that is not showing changes nothing.

  KEYS[1] account hash  KEYS[2] holds hash  KEYS[3] audit stream
  ARGV[1] key prefix  ARGV[2] ledger retention ms  ARGV[3] level
  Returns JSON { account, alert?, ... } or { error = "unknown_account" }.
]]
--- @include "lib/context"

local ctx = new_context()
local a, err = require_account(ctx)
if not a then return err end
maintain(ctx, a)
-- Time-due work may cross a threshold here: that crossing is raised like any other.
local raised = evaluate_alerts(a)
local showing = current_alert(a)
if showing and showing.level == ARGV[3] and a.alert_dismissed == "" then
  a.alert_dismissed = ARGV[3]
  a.changed = true
end
return finish(ctx, a, { alert = raised })
