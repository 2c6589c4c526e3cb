--[[
  Marks an event's idempotency record: the webhooks its application raised are queued (outbox.ts
  `settle`), so a later redelivery answered `duplicate` does not owe them again (lib/apply.lua).

  KEYS[1] the account hash, KEYS[2] the record in the layout before (`<prefix>evt:<eventId>`).
  ARGV[1] key prefix, ARGV[2] "<idempotency retention ms>" (with "@<now ms>" under a test's virtual
  clock), ARGV[3] the eventId's field in the generation hashes (fingerprint.ts eventField).
  Returns 1 when marked, 0 when the record is gone, raised nothing or is already marked. The record
  keeps its TTL (HSET and SET KEEPTTL leave it).
]]
--- @include "lib/context"

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
