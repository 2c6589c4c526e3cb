--[[
  Reads an event's idempotency record (lib/idem) for GET /v1/accounts/:id/events/:eventId and the
  intake's conflict checks: the compact text, or the JSON of the layout before; "" when none.

  KEYS[1] the account hash, KEYS[2] the record in the layout before (`<prefix>evt:<eventId>`).
  ARGV[1] key prefix, ARGV[2] "<idempotency retention ms>" (with "@<now ms>" under a test's virtual
  clock), ARGV[3] the eventId's field in the generation hashes (fingerprint.ts eventField).
]]
--- @include "lib/context"

local keep_ms, now = retention_and_clock(ARGV[2])
-- A read, so it answers what it can: an account key of another type (a fault the consumer retries
-- through) reads as an account that never wrote this layout, as the key per record was read before,
-- rather than failing the intake's post of an event that its retries will apply.
local a = redis.pcall("HMGET", KEYS[1], "ix")
if type(a) ~= "table" or a.err then a = {} end
local rec = idem_lookup({ now = now, prefix = ARGV[1] }, { ix = a[1] or nil }, { efield = ARGV[3], idem_ms = keep_ms, evt_key = KEYS[2] }, false)
return rec or ""
