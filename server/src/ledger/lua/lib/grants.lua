--[[
  Idempotency of the ops API (cycles, packs, adjustments). Each grant has a record of its own
  (KEYS[4], "<prefix>grant:<kind>:<id>"), kept for the ledger retention like the audit entries,
  holding the canonical body of the first call, a newline, and its answer (the account right
  after it, as account_view gives it): a repeat answers what the first call answered. The same id
  with a different body is a conflict.
  Before v1.1 the bodies lived in one hash per account (KEYS[5], "<prefix>grants") that grew
  without end. It is still read, never written: a grant recorded there stays idempotent (its
  repeat answers the balance as it stands, the first answer was not kept).
  A grant that raised an alert keeps it in its answer, as the last field `"wr":"<raised>"` (the
  text of lib/raised.lua), until mark-webhooks-2.lua appends ";q" once its webhooks are queued: a
  repeat in between answers it as `owed` (docs/webhooks.md "The gap"). An account object with one
  more field is what a process of the release before would answer from such a record.
]]
--- @include "lib/raised"
-- Returns "new", "repeat" (and the first answer's JSON, nil for a pre-v1.1 grant) or "conflict".
local function grant_seen(field, body)
  local record = redis.call("GET", KEYS[4])
  if record then
    local cut = string.find(record, "\n", 1, true)
    if string.sub(record, 1, cut - 1) == body then return "repeat", string.sub(record, cut + 1) end
    return "conflict"
  end
  local legacy = redis.call("HGET", KEYS[5], field)
  if not legacy then return "new" end
  if legacy == body then return "repeat" end
  return "conflict"
end

-- The answer to a repeat: the first call's account when it was kept, else the current one; and
-- what the first call raised while it is not marked queued (`owed`, the text of lib/raised.lua).
local function grant_repeat(ctx, a, first_answer)
  if not first_answer then return finish(ctx, a, { ["repeat"] = true }) end
  local owed = raised_owed(string.match(first_answer, ',"wr":"([^"]*)"}$'))
  local tail = owed and (',"owed":"' .. owed .. '"}') or "}"
  return '{"repeat":true,"changed":false,"now":' .. fmt(ctx.now) .. ',"account":' .. first_answer .. tail
end

-- Credits granted: overdraft is repaid first; returns what is left to put in a bucket.
local function grant_credits(a, credits)
  local left = repay_overdraft(a, credits)
  a.tot_granted = a.tot_granted + credits
  a.changed = true
  return left
end

--[[
  Ends a grant script once every read and check is done. Writes, in this order and nothing that
  can fail among them: the grant's record (with the answer: the account as finish will report
  it, seq included, and what it raised: `reply.alert`, the raw alert), then the state and the
  audit entries (finish). The audit stream's type was
  checked when the account's context was made (lib/context, audit_check), before the first write,
  since an XADD on a key of the wrong type is the one write that could fail.
]]
local function grant_commit(ctx, a, body, reply)
  -- The account's credits moved: its planned sessions' forecasts did too (lib/plans). A read, so first.
  plans_refresh(ctx)
  sessions_encode(ctx)
  local seq = a.seq
  if a.changed then a.seq = seq + 1 end
  local answer = cjson.encode(account_view(a))
  if reply.alert then
    reply.raised = raised_text(ctx.now, a.seq, reply.alert, false)
    answer = string.sub(answer, 1, -2) .. ',"wr":"' .. reply.raised .. '"}'
  end
  a.seq = seq
  redis.call("SET", KEYS[4], body .. "\n" .. answer, "PX", ctx.retention_ms)
  return finish(ctx, a, reply)
end
