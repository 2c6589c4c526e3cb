--[[
  Marks an event's idempotency record: the webhooks its application raised are queued (outbox.ts
  `settle`), so a later redelivery answered `duplicate` does not owe them again (lib/apply.lua).

  The same for a change that is not a stage event (ARGV[4], lib/raised.lua): an ops grant's record
  ("grant": the `"wr"` field at the end of its answer, lib/grants.lua) or a session's hash after a
  budget set ("session") or the account hash ("account": the sweeper's touch, an account PUT, the
  time-due work of a read, plan set or dismissal): the texts queued (ARGV[3], joined by "|") are
  removed from the hash's pending raises (`wp`, or `wr` in the layout before; lib/raised.lua), so a
  newer raise stays owed.

  KEYS[1] the account hash, KEYS[2] the record in the layout before (`<prefix>evt:<eventId>`), or
  the grant's record, or the session's hash.
  ARGV[1] key prefix, ARGV[2] "<idempotency retention ms>" (with "@<now ms>" under a test's virtual
  clock), ARGV[3] the eventId's field in the generation hashes (fingerprint.ts eventField), or for
  a session or the account the raised texts queued, joined by "|", ARGV[4] absent or "" (an event),
  "grant", "session" or "account".
  Returns 1 when marked, 0 when the record is gone, raised nothing or is already marked. The record
  keeps its TTL (HSET and SET KEEPTTL leave it).
]]
--- @include "lib/context"
--- @include "lib/raised"

local kind = ARGV[4] or ""
if kind == "grant" then
  local rec = redis.call("GET", KEYS[2])
  local head, raised = string.match(rec or "", '^(.*,"wr":")([^"]*)"}$')
  if not raised_owed(raised) then return 0 end
  redis.call("SET", KEYS[2], head .. raised .. ';q"}', "KEEPTTL")
  return 1
elseif kind == "session" or kind == "account" then
  -- Removes exactly the texts queued from the pending raises (lib/raised.lua): one raised since
  -- (not among them) stays owed, and a second mark of the same texts finds nothing to remove.
  local queued, marked = {}, 0
  for text in string.gmatch(ARGV[3], "[^|]+") do queued[text] = true end
  local f = redis.call("HMGET", KEYS[2], "wp", "wr")
  local keep = {}
  for text in string.gmatch(f[1] or "", "[^|]+") do
    if queued[text] then marked = 1 else keep[#keep + 1] = text end
  end
  if marked == 1 then
    if #keep == 0 then
      redis.call("HDEL", KEYS[2], "wp")
    else
      redis.call("HSET", KEYS[2], "wp", table.concat(keep, "|"))
    end
  end
  -- The layout before: its one text, if that is what was queued.
  if f[2] and queued[f[2]] then
    redis.call("HDEL", KEYS[2], "wr")
    marked = 1
  end
  return marked
end

local keep_ms, now = retention_and_clock(ARGV[2])
local ctx = { now = now, prefix = ARGV[1] }
local rec, _, key, field = idem_lookup(ctx, read_event_account(KEYS[1]), { efield = ARGV[3], idem_ms = keep_ms, evt_key = KEYS[2] }, false)
if not rec then return 0 end
if key then
  -- A short record (upper-case code, lib/idem idem_record_text) raised nothing: nothing to mark.
  if string.find(rec, "^%u") then return 0 end
  -- The compact record (lib/idem): its raised field, the fifth, gets ";q", under the name it was
  -- found under (14 characters, or 28 in a generation of the layout before).
  local head, raised, fp = string.match(rec, "^([^,]*,[^,]*,[^,]*,)([^,]*),(.*)$")
  if not raised or raised == "" or string.sub(raised, -2) == ";q" then return 0 end
  redis.call("HSET", key, field, head .. raised .. ";q," .. fp)
  return 1
end
if cjson.decode(rec).wq then return 0 end
-- The record is the ledger's own JSON object: its closing brace is replaced (as remember_after did).
redis.call("SET", KEYS[2], string.sub(rec, 1, -2) .. ',"wq":1}', "KEEPTTL")
return 1
