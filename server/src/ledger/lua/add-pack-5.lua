--[[
  Adds a credit pack that never expires (CONTRACT §3); overdraft is repaid from it first.

  KEYS[1] account hash  KEYS[2] holds hash  KEYS[3] audit stream  KEYS[4] the grant's record
  KEYS[5] the pre-v1.1 grants hash (read only; lib/grants.lua)
  ARGV[1] key prefix  ARGV[2] ledger retention ms  ARGV[3] packId  ARGV[4] credits  ARGV[5] canonical body
  ARGV[6] actor: who posted it (the token's sub or the API key's id; "" when unknown), recorded on the
  entry only, not part of the body: another operator repeating the same pack is a repeat
  Returns JSON { account, alert?, ... } or { error = "unknown_account" | "conflict" }.
]]
--- @include "lib/context"
--- @include "lib/grants"

local ctx = new_context()
local a, err = require_account(ctx)
if not a then return err end
local seen, first_answer = grant_seen("pack:" .. ARGV[3], ARGV[5])
if seen == "conflict" then return cjson.encode({ error = "conflict" }) end
if seen == "repeat" then return grant_repeat(ctx, a, first_answer) end

maintain(ctx, a)
local credits = tonumber(ARGV[4])
local left = grant_credits(a, credits)
if left > 0 then a.packs[#a.packs + 1] = { id = ARGV[3], kind = "pack", granted = credits, rem = left } end
a.packs_dirty = true
audit(ctx, a, "grant", credits, { "bucket", ARGV[3], "kind", "pack", "actor", ARGV[6] })
return grant_commit(ctx, a, ARGV[5], { alert = evaluate_alerts(a) })
