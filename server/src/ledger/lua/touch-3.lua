--[[
  Does what time made due (cycle end, expired holds) and returns the account's snapshot: what
  the sweeper and every balance read call, so a balance is true even when no event arrived.

  KEYS[1] account hash  KEYS[2] holds hash  KEYS[3] audit stream
  ARGV[1] key prefix  ARGV[2] ledger retention ms
  An alert this work raised is kept in the account hash among its pending raises (`wp`,
  lib/raised.lua) until its webhooks are queued (mark-webhooks-2.lua removes it): the sweeper queues them before
  it moves the account's index entry on, so a process killed in between leaves the entry due and
  the next sweep's touch answers it as `owed` (docs/webhooks.md "The gap"). A newer one is added beside it.
  Returns JSON { account, alert?, raised?, owed?, sessions?, changed, deadline }
    or { error = "unknown_account" }.
]]
--- @include "lib/context"
--- @include "lib/raised"

local ctx = new_context()
local a, err = require_account(ctx)
if not a then return err end
-- load_account keeps every field of the hash: `wp` and `wr` are ones save_account never writes.
local owed = raised_pending(a)
maintain(ctx, a)
local alert = evaluate_alerts(a)
-- The seq the account will have after this call (finish bumps it once if it changed): the alert's key.
local text = alert and raised_text(ctx.now, a.changed and a.seq + 1 or a.seq, alert, false) or nil
local out = finish(ctx, a, { alert = alert, raised = text, owed = owed })
if text then raised_keep(KEYS[1], owed, text) end
return out
