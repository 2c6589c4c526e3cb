--[[
  Marks an event's idempotency record: the webhooks its application raised are queued (outbox.ts
  `settle`), so a later redelivery answered `duplicate` does not owe them again (lib/apply.lua).

  KEYS[1] the idempotency record (`<prefix>evt:<eventId>`).
  Returns 1 when marked, 0 when the record is gone or already marked. The record keeps its TTL.
]]
local rec = redis.call("GET", KEYS[1])
if not rec or cjson.decode(rec).wq then return 0 end
-- The record is the ledger's own JSON object: its closing brace is replaced (as remember_after does).
redis.call("SET", KEYS[1], string.sub(rec, 1, -2) .. ',"wq":1}', "KEEPTTL")
return 1
