--- @include "lib/context"

--[[
  One stage event applied to a loaded, caught-up account (CONTRACT §2). The event `ev`:
  { id, kind (started|progress|completed|failed), sid, step, action, stage, model, quote (credits on
  the account's plan), ttl_ms (hold time-to-live), idem_ms (how long the eventId is remembered),
  evt_key (its idempotency record), step_key (its step's state, lib/steps), fp (its fingerprint),
  units ("" for flat actions) and rate (on the account's plan) of the charge, pbv (price book
  version) }. A charge's audit entry carries units, rate, model and pbv, so that it can be
  recomputed from the entry alone (CONTRACT §4 v1.1): units × rate = amount (flat: rate = amount).

  Returns the event's part of the reply: { status, charged, held, decision?, dr? (denyReason), alert?, denied?,
  charge? (true when charged), progress?, repush?, br? (true when this event used the session's budget up) }. status: "applied" | "denied" | "duplicate" | "ignored".
  A step ends at completed or failed; any later event for it is "ignored". A denied step stays
  open: a new started tries again.
]]
-- The idempotency records of a script's events, written by records_flush after the state they
-- answer for (SET cannot fail, so nothing is remembered that was not applied). A repeat of an
-- eventId within the same script finds its record here.
local function new_records() return { by_key = {}, order = {} } end

-- The idempotency record of an event: how it was answered, so a repeat answers the same, and the
-- event's fingerprint (ev.fp, a JSON array built by the caller), so a reused eventId with another
-- body is told from a repeat (CONTRACT §2 v1.1). A denial keeps its reason (dr), so a duplicate
-- answers the same denyReason.
local function remember(records, ev, status, decision, charged, held, dr)
  -- The JSON written by hand: every value is one of this script's own words, a whole number or
  -- the caller's JSON text, and a record is written for every event (cjson.encode costs about
  -- three times as much).
  if dr then
    records.by_key[ev.evt_key] = string.format('{"s":"%s","c":%d,"h":%d,"d":"%s","dr":"%s","f":%s}', status, charged, held, decision, dr, ev.fp)
  elseif decision then
    records.by_key[ev.evt_key] = string.format('{"s":"%s","c":%d,"h":%d,"d":"%s","f":%s}', status, charged, held, decision, ev.fp)
  else
    records.by_key[ev.evt_key] = string.format('{"s":"%s","c":%d,"h":%d,"f":%s}', status, charged, held, ev.fp)
  end
  records.order[#records.order + 1] = ev
end

-- The fingerprint's fields, in the caller's order (event-batch.ts FINGERPRINT_FIELDS).
local FP_FIELDS = { "type", "sessionId", "stepId", "action", "model", "scenes", "seconds" }

-- `scenes: 1` is a per-scene action's default: the caller writes it as null, and records written
-- before that may hold 1, so a stored 1 reads as null (event-batch.ts fingerprintValues).
local FP_SCENES = 6
local function fp_value(i, v)
  if i == FP_SCENES and v == 1 then return cjson.null end
  return v
end

-- nil when the record's fingerprint is the event's (or the record predates fingerprints: those
-- answer as repeats, as they did); else the first differing field and its value in the record.
local function fp_conflict(p, ev)
  if p.f == nil then return nil end
  local now = cjson.decode(ev.fp)
  for i, name in ipairs(FP_FIELDS) do
    if fp_value(i, p.f[i]) ~= fp_value(i, now[i]) then return name, p.f[i] end
  end
  return nil
end

-- Adds what stood after the event (available, the session's used) to its record, so that
-- GET /v1/accounts/:id/events/:eventId answers the processor's whole result. The record is this
-- script's own JSON object: its closing brace is replaced, whatever fields come before it.
local function remember_after(records, ev, av, su)
  local rec = records.by_key[ev.evt_key]
  if rec then records.by_key[ev.evt_key] = string.sub(rec, 1, -2) .. string.format(',"av":%d,"su":%d}', av, su) end
end

-- What the event raised (a denial, an alert) and when, so that a redelivery answered `duplicate`
-- can raise its webhooks again until they are known to be queued (mark-webhooks-1.lua adds "wq":1;
-- outbox.ts `settle`). The fields ride only on records of events that raised something: t the
-- script's time (ms), rq the denial's required credits, al/th the alert's level and threshold (the
-- available credits of both are the record's av), br 1 when it used its session's budget up (the
-- session's budget_reached is then this same t, which tells whether that budget is still in force).
local function remember_raised(records, ev, r, now)
  if not (r.denied or r.alert or r.br) then return end
  local rec = records.by_key[ev.evt_key]
  if not rec then return end
  local extra = string.format(',"t":%d', now)
  if r.denied then extra = extra .. string.format(',"rq":%d', r.denied.required) end
  if r.alert then extra = extra .. string.format(',"al":"%s","th":%d', r.alert.level, r.alert.threshold) end
  if r.br then extra = extra .. ',"br":1' end
  records.by_key[ev.evt_key] = string.sub(rec, 1, -2) .. extra .. "}"
end

local function records_flush(records)
  for _, ev in ipairs(records.order) do redis.call("SET", ev.evt_key, records.by_key[ev.evt_key], "PX", ev.idem_ms) end
end

local function apply_event(ctx, a, ev, records)
  local mine = records.by_key[ev.evt_key]
  local previous = mine or redis.call("GET", ev.evt_key)
  if previous then
    -- Already applied: a no-op, answered with the current snapshots so a retry re-pushes them.
    local p = cjson.decode(previous)
    local field, was = fp_conflict(p, ev)
    if field then return { error = "conflict", field = field, was = was } end
    local r = { status = "duplicate", charged = 0, held = 0, decision = p.d, dr = p.dr, repush = true }
    -- What the first application raised, while its webhooks are not known to be queued (no "wq"):
    -- the process that applied it may have died before queueing them. A repeat within this script
    -- owes nothing: the first application's outcome is in the same reply.
    if p.t and not p.wq and not mine then r.owed = { t = p.t, rq = p.rq, av = p.av, al = p.al, th = p.th, br = p.br } end
    return r
  end

  local kind, sid, quote = ev.kind, ev.sid, ev.quote
  local ref = sid .. "/" .. ev.step
  local state = step_state(ctx, ev.step_key, sid, ev.step)
  local reply = { status = "applied", charged = 0, held = 0 }

  -- A started for a step whose hold is still open is a repeat even if the step's state is gone:
  -- placing a second hold over the first would leave `held` above the holds. Reading the hold also
  -- means every key the script later writes has been read first (see apply-events-7n).
  if state == "completed" or state == "failed" or (kind == "started" and (state == "held" or hold_get(ctx, ref))) then
    reply.status = "ignored"
    remember(records, ev, "ignored", nil, 0, 0)
  elseif kind == "progress" then
    remember(records, ev, "applied", nil, 0, 0)
    reply.progress = true
  elseif kind == "started" then
    local avail = available(a)
    -- The session budget (CONTRACT §10) is checked here, in the same script as the hold, so that
    -- concurrent steps of one session can never together hold past it. A zero-credit hold always
    -- passes; when the credits fall short too, that is the reason given.
    local budget = quote > 0 and session_budget(ctx, sid)
    local over_budget = budget and session_spent(ctx, sid) + quote > budget
    if quote > avail or over_budget then
      step_set(ctx, ev.step_key, "denied", ev.idem_ms)
      reply.status = "denied"
      reply.decision = "denied"
      reply.dr = quote > avail and "insufficient_credits" or "session_budget"
      reply.denied = { required = quote, available = avail, reason = reply.dr }
      remember(records, ev, "denied", "denied", 0, 0, reply.dr)
    else
      a.held = a.held + quote
      a.changed = true
      -- n orders holds newest-first for shrink_holds; seq moves once per batch, so the place in the
      -- batch breaks the tie (batches stay far below 1000 events).
      ctx.placed = (ctx.placed or 0) + 1
      hold_put(ctx, ref, { a = quote, x = ctx.now + ev.ttl_ms, n = a.seq * 1000 + ctx.placed, s = sid })
      session_add(ctx, sid, "reserved", quote)
      deadline_at_most(a, ctx.now + ev.ttl_ms)
      step_set(ctx, ev.step_key, "held", ev.idem_ms)
      if quote > 0 then audit(ctx, a, "hold", quote, { "eid", ev.id, "sid", sid, "act", ev.action, "step", ev.step }) end
      reply.held = quote
      reply.decision = "granted"
      reply.br = budget_reach(ctx, sid) or nil
      remember(records, ev, "applied", "granted", 0, quote)
    end
  else
    local released = hold_release(ctx, a, ref)
    if released > 0 then
      audit(ctx, a, "release", released, { "eid", ev.id, "sid", sid, "act", ev.action, "step", ev.step })
    end
    if kind == "completed" then
      -- Work done is charged in full: from credits not held by others, the rest is overdraft.
      local drawn = draw(a, math.min(quote, available(a)))
      a.overdraft = a.overdraft + (quote - drawn)
      -- used counts from the current cycle's start (before any cycle: from the account's creation).
      if a.sub_id == "" or ctx.now >= a.sub_start then a.used = a.used + quote end
      a.tot_charged = a.tot_charged + quote
      burn_add(ctx, quote)
      a.changed = true
      session_add(ctx, sid, "used", quote)
      session_add(ctx, sid, ev.stage, quote)
      session_set(ctx, sid, "last", { eventId = ev.id, action = ev.action, amount = quote, at = ctx.now })
      audit(ctx, a, "charge", quote, { "eid", ev.id, "sid", sid, "act", ev.action, "stg", ev.stage, "mdl", ev.model,
        "step", ev.step, "units", ev.units, "rate", ev.rate, "pbv", ev.pbv })
      reply.charged = quote
      reply.charge = true
      reply.br = budget_reach(ctx, sid) or nil
      step_set(ctx, ev.step_key, "completed", ev.idem_ms)
    else
      step_set(ctx, ev.step_key, "failed", ev.idem_ms)
    end
    remember(records, ev, "applied", nil, reply.charged, 0)
  end

  reply.alert = evaluate_alerts(a)
  return reply
end
