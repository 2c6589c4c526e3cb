--[[
  Does what time made due (cycle end, expired holds) and returns the account's snapshot: what
  the sweeper and every balance read call, so a balance is true even when no event arrived.

  KEYS[1] account hash  KEYS[2] holds hash  KEYS[3] audit stream
  ARGV[1] key prefix  ARGV[2] ledger retention ms
  Returns JSON { account, alert?, sessions?, changed, deadline } or { error = "unknown_account" }.
]]
--- @include "lib/context"

local ctx = new_context()
local a, err = require_account(ctx)
if not a then return err end
maintain(ctx, a)
return finish(ctx, a, { alert = evaluate_alerts(a) })
