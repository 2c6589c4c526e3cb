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
-- through) does not fail the intake's post of an event that its retries will apply; the lookup is
-- then bounded by the retention alone (lib/idem read_event_account).
local rec = idem_lookup({ now = now, prefix = ARGV[1] }, read_event_account(KEYS[1]), { efield = ARGV[3], idem_ms = keep_ms, evt_key = KEYS[2] }, false)
return rec or ""
