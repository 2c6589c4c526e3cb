--[[
  A signed correction (CONTRACT §3). A refund (positive) is a never-expiring bucket that repays
  overdraft first. A debit (negative) is taken like a charge, subscription first, from every
  bucket (holds shrink to fit, newest first); a shortfall becomes overdraft; it is not `used`.

  KEYS[1] account hash  KEYS[2] holds hash  KEYS[3] audit stream  KEYS[4] the grant's record
  KEYS[5] the pre-v1.1 grants hash (read only; lib/grants.lua)
  ARGV[1] key prefix  ARGV[2] ledger retention ms  ARGV[3] adjustmentId  ARGV[4] signed credits
  ARGV[5] reason  ARGV[6] canonical body  ARGV[7] actor (as add-pack-5; "" when unknown)
  The entry's amount is the magnitude (CONTRACT §4: amounts are positive) and `dir` says
  "credit" or "debit"; entries written before v1.1 carry a signed amount and no `dir`.
  Returns JSON { account, alert?, ... } or { error = "unknown_account" | "conflict" }.
]]
--- @include "lib/context"
--- @include "lib/grants"

local ctx = new_context()
local a, err = require_account(ctx)
if not a then return err end
local seen, first_answer = grant_seen("adjustment:" .. ARGV[3], ARGV[6])
if seen == "conflict" then return cjson.encode({ error = "conflict" }) end
if seen == "repeat" then return grant_repeat(ctx, a, first_answer) end

maintain(ctx, a)
local credits = tonumber(ARGV[4])
if credits > 0 then
  local left = grant_credits(a, credits)
  if left > 0 then a.packs[#a.packs + 1] = { id = ARGV[3], kind = "adjustment", granted = credits, rem = left } end
  a.packs_dirty = true
else
  local debit = -credits
  local drawn = draw(a, math.min(debit, total_remaining(a)))
  a.overdraft = a.overdraft + (debit - drawn)
  a.tot_debited = a.tot_debited + debit
  shrink_holds(ctx, a)
end
a.changed = true
audit(ctx, a, "adjustment", math.abs(credits), {
  "bucket", ARGV[3], "why", ARGV[5], "dir", credits > 0 and "credit" or "debit", "actor", ARGV[7] })
return grant_commit(ctx, a, ARGV[6], { alert = evaluate_alerts(a) })
