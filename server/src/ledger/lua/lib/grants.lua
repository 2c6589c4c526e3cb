--[[
  Idempotency of the ops API: a hash (KEYS[4]) field "<kind>:<id>" -> the canonical body of the
  first call. The same id with the same body answers as the first did without changing anything;
  with a different body it is a conflict.
  Returns "new", "repeat" or "conflict".
]]
local function grant_seen(key, field, body)
  local first = redis.call("HGET", key, field)
  if not first then return "new" end
  if first == body then return "repeat" end
  return "conflict"
end

-- Credits granted: overdraft is repaid first; returns what is left to put in a bucket.
local function grant_credits(a, credits)
  local left = repay_overdraft(a, credits)
  a.tot_granted = a.tot_granted + credits
  a.changed = true
  return left
end
