--[[
  Applies one stage event to an account, atomically and idempotently (CONTRACT §2).

  KEYS[1] account hash    KEYS[2] holds hash    KEYS[3] audit stream
  KEYS[4] step hash (state of <sessionId>/<stepId>)    KEYS[5] idempotency record of the eventId
  ARGV[1] key prefix ("<ns>:{<accountId>}:")    ARGV[2] ledger retention ms
  ARGV[3] idempotency retention ms    ARGV[4] eventId    ARGV[5] type (started|progress|completed|failed)
  ARGV[6] sessionId    ARGV[7] stepId    ARGV[8] action    ARGV[9] stage    ARGV[10] model ("" for none)
  ARGV[11..13] the quote on the free, plus and pro plans (the hold for started, the charge for completed)
  ARGV[14] hold time-to-live ms

  Returns JSON: { error = "unknown_account" } or
    { result = { status, charged, held, decision? }, account, sessions?, alert?, denied?, charge?, now, deadline }
  status: "applied" | "denied" | "duplicate" | "ignored". A step ends at completed or failed; any
  later event for it is "ignored". A denied step stays open: a new started tries again.
]]
--- @include "lib/context"

local ctx = new_context()
local a, err = require_account(ctx)
if not a then return err end

local idem_ms = tonumber(ARGV[3])
local event_id, kind, sid, step_id = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local action, stage, model = ARGV[8], ARGV[9], ARGV[10]
local quote = ({ free = tonumber(ARGV[11]), plus = tonumber(ARGV[12]), pro = tonumber(ARGV[13]) })[a.plan] or tonumber(ARGV[11])
local ref = sid .. "/" .. step_id

local previous = redis.call("GET", KEYS[5])
if previous then
  -- Already applied: answer as a no-op, with the current snapshots so a retry re-pushes them.
  local p = cjson.decode(previous)
  return finish(ctx, a, { result = { status = "duplicate", charged = 0, held = 0, decision = p.d },
    session_of = sid, repush = true })
end

maintain(ctx, a)

local function remember(status, decision, charged, held)
  local rec = { s = status, c = charged, h = held }
  if decision then rec.d = decision end
  redis.call("SET", KEYS[5], cjson.encode(rec), "PX", idem_ms)
end

local function set_step(state)
  redis.call("HSET", KEYS[4], "state", state)
  redis.call("PEXPIRE", KEYS[4], idem_ms)
end

local state = redis.call("HGET", KEYS[4], "state")
local reply = { result = { status = "applied", charged = 0, held = 0 } }

if state == "completed" or state == "failed" or (kind == "started" and state == "held") then
  reply.result.status = "ignored"
  remember("ignored", nil, 0, 0)
elseif kind == "progress" then
  remember("applied", nil, 0, 0)
  reply.progress = true
elseif kind == "started" then
  local avail = available(a)
  if quote > avail then
    set_step("denied")
    reply.result.status = "denied"
    reply.result.decision = "denied"
    reply.denied = { required = quote, available = avail }
    remember("denied", "denied", 0, 0)
  else
    a.held = a.held + quote
    a.changed = true
    hold_put(ctx, ref, { a = quote, x = ctx.now + tonumber(ARGV[14]), n = a.seq, s = sid })
    session_add(ctx, sid, "reserved", quote)
    deadline_at_most(a, ctx.now + tonumber(ARGV[14]))
    set_step("held")
    if quote > 0 then audit(ctx, a, "hold", quote, { eid = event_id, sid = sid, act = action, step = step_id }) end
    reply.result.held = quote
    reply.result.decision = "granted"
    remember("applied", "granted", 0, quote)
  end
else
  local released = hold_release(ctx, a, ref)
  if released > 0 then
    audit(ctx, a, "release", released, { eid = event_id, sid = sid, act = action, step = step_id })
  end
  if kind == "completed" then
    -- Work done is charged in full: from credits not held by others, the rest is overdraft.
    local drawn = draw(a, math.min(quote, available(a)))
    a.overdraft = a.overdraft + (quote - drawn)
    -- used counts from the current cycle's start (before any cycle: from the account's creation).
    if a.sub_id == "" or ctx.now >= a.sub_start then a.used = a.used + quote end
    a.tot_charged = a.tot_charged + quote
    a.changed = true
    session_add(ctx, sid, "used", quote)
    session_add(ctx, sid, stage, quote)
    session_set(ctx, sid, "last", cjson.encode({ eventId = event_id, action = action, amount = quote, at = ctx.now }))
    audit(ctx, a, "charge", quote, { eid = event_id, sid = sid, act = action, stg = stage, mdl = model, step = step_id })
    reply.result.charged = quote
    reply.charge = { amount = quote }
    set_step("completed")
  else
    set_step("failed")
  end
  remember("applied", nil, reply.result.charged, 0)
end

reply.alert = evaluate_alerts(a)
reply.session_of = sid
return finish(ctx, a, reply)
