--[[
  Marks an event's idempotency record: the webhooks its application raised are queued (outbox.ts
  `settle`), so a later redelivery answered `duplicate` does not owe them again (lib/apply.lua).

  The same for a change that is not a stage event (ARGV[4], lib/raised.lua): an ops grant's record
  ("grant": the `"wr"` field at the end of its answer, lib/grants.lua) or a session's hash after a
  budget set ("session": its field `wr`, set-budget-5.lua, marked only while it is ARGV[3], so a
  newer raise stays owed), or the account hash after the sweeper's touch ("account": its field `wr`,
  touch-3.lua, likewise).

  KEYS[1] the account hash, KEYS[2] the record in the layout before (`<prefix>evt:<eventId>`), or
  the grant's record, or the session's hash.
  ARGV[1] key prefix, ARGV[2] "<idempotency retention ms>" (with "@<now ms>" under a test's virtual
  clock), ARGV[3] the eventId's field in the generation hashes (fingerprint.ts eventField), or for
  a session the raised text queued, ARGV[4] absent or "" (an event), "grant" or "session".
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
  if redis.call("HGET", KEYS[2], "wr") ~= ARGV[3] then return 0 end
  redis.call("HSET", KEYS[2], "wr", ARGV[3] .. ";q")
  return 1
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
