--[[
  Trims an account's audit trail below a time, once the history archive holds those entries
  (server/src/history/trim.ts computes the bound: never above the archive's cursor, never within
  the hot retention). The bound is recorded first, in the same script, so a reader (start-cycle-5,
  the history reads) that sees entries missing also sees that they are in the archive.

  KEYS[1] audit stream  KEYS[2] the trim marker (ms below which entries may be gone)
  ARGV[1] bound ms (entries with ids below `<bound>-0` are removed)
  Returns the number of entries removed (0 when the bound is not above the marker).
]]
local bound = tonumber(ARGV[1])
local marker = tonumber(redis.call("GET", KEYS[2]) or "0")
if not bound or bound <= marker then return 0 end
if redis.call("TYPE", KEYS[1]).ok ~= "stream" then return 0 end
redis.call("SET", KEYS[2], ARGV[1])
return redis.call("XTRIM", KEYS[1], "MINID", ARGV[1])
