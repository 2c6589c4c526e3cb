--[[
  Moves an account's entry in the deadlines index only if nobody changed it since it was read:
  the sweeper must not drop a deadline a concurrent hold just added.

  KEYS[1] deadlines sorted set
  ARGV[1] accountId  ARGV[2] the score read  ARGV[3] the new deadline ms ("" to remove)
  Returns 1 when moved, 0 when the entry had changed.
]]
local current = redis.call("ZSCORE", KEYS[1], ARGV[1])
if current == false or tonumber(current) ~= tonumber(ARGV[2]) then return "0" end
if ARGV[3] == "" then
  redis.call("ZREM", KEYS[1], ARGV[1])
else
  redis.call("ZADD", KEYS[1], ARGV[3], ARGV[1])
end
return "1"
