--[[
  A session's snapshot with what its forecast needs (CONTRACT §4, §10): the account after the
  time-due work every read does (lib/maintain, as touch-3), the session's totals and, when it has
  a plan, the account's recent spend (lib/burn), all at one instant of the script's clock.

  KEYS[1] account hash  KEYS[2] holds hash  KEYS[3] audit stream  KEYS[4] the session's totals  KEYS[5] the account's per-minute charges (lib/burn)
  ARGV[1] key prefix  ARGV[2] ledger retention ms  ARGV[3] sessionId
  Returns JSON { account, session, burn?, sessions?, changed, ... } or { error = "unknown_account" }.
]]
--- @include "lib/context"

local ctx = new_context()
ctx.burn_key = KEYS[5]
-- Declared before maintain, which may touch this session (an expiring hold of it).
session_declare(ctx, ARGV[3], KEYS[4])
local a, err = require_account(ctx)
if not a then return err end
maintain(ctx, a)
return finish(ctx, a, { session_of = ARGV[3], alert = evaluate_alerts(a) })
