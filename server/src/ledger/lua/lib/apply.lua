--- @include "lib/context"

--[[
  One stage event applied to a loaded, caught-up account (CONTRACT §2). The event `ev`:
  { id, kind (started|progress|completed|failed), sid, step, action, stage, model, quote (credits on
  the account's plan), ttl_ms (hold time-to-live), idem_ms (how long the eventId is remembered),
  sfield (its step's field, lib/idem), fp (its compact fingerprint), units ("" for flat actions) and rate (on the account's plan) of the charge, pbv (price book
  version) }. A charge's audit entry carries units, rate, model and pbv, so that it can be
  recomputed from the entry alone (CONTRACT §4 v1.1): units × rate = amount (flat: rate = amount).

  Returns the event's part of the reply: { status, charged, held, decision?, dr? (denyReason), alert?, denied?,
  charge? (true when charged), progress?, repush?, br? (true when this event used the session's budget up) }. status: "applied" | "denied" | "duplicate" | "ignored".
  A step ends at completed or failed; any later event for it is "ignored". A denied step stays
  open: a new started tries again.
]]
-- The idempotency records of one account's events in a script (lib/idem), by eventId, written by
-- idem_flush after the state they answer for, into the account's generation. A repeat of an eventId
-- within the same script finds its record here.
local function new_records() return { by_key = {} } end

-- The idempotency record of an event: how it was answered, so a repeat answers the same, and the
-- event's fingerprint (ev.fp, compact, built by the caller), so a reused eventId with another body
-- is told from a repeat (CONTRACT §2 v1.1). A denial keeps its reason (in its code), so a duplicate
-- answers the same denyReason. `code`: lib/idem IDEM_CODES; `amt` what was held (g) or charged.
local function remember(ctx, records, ev, code, amt)
  local r = { efield = ev.efield, code = code, amt = amt, fp = ev.fp, keep = ev.idem_ms }
  records.by_key[ev.id] = r
  ctx.idem_recs = ctx.idem_recs or {}
  ctx.idem_recs[#ctx.idem_recs + 1] = r
end

-- The fingerprint's fields, in the order a conflict is looked for (event-batch.ts FINGERPRINT_FIELDS).
local FP_FIELDS = { "type", "sessionId", "stepId", "action", "model", "scenes", "seconds" }
local FP_TYPES = { s = "stage.started", p = "stage.progress", c = "stage.completed", f = "stage.failed" }

-- A compact fingerprint's fields, in FP_FIELDS order: the type's code, the two hashes, the action,
-- the model ("" none), scenes and seconds as numbers (nil none).
local function fp_fields(fp)
  local action, scenes, seconds, model = string.match(string.sub(fp, 19), "^([^,]*),([^,]*),([^,]*),(.*)$")
  return { string.sub(fp, 1, 1), string.sub(fp, 2, 9), string.sub(fp, 10, 17), action, model,
    tonumber(scenes), tonumber(seconds) }
end

-- The event's own values, to compare with a record of the layout before (its fingerprint a JSON
-- array of the values): type, ids and action as sent, model ("" none: as the fingerprint writes it,
-- sent apart only with a charge), scenes and seconds from ev.fp.
local function fp_fields_raw(ev)
  local now = fp_fields(ev.fp)
  return { "stage." .. ev.kind, ev.sid, ev.step, ev.action, now[5], now[6], now[7] }
end

-- A record of the layout before, as fp_fields_raw; `scenes: 1` there is the default, as if absent.
local function fp_fields_legacy(f)
  local model = f[5]
  return { f[1], f[2], f[3], f[4], (model == nil or model == cjson.null) and "" or model,
    f[6] ~= 1 and tonumber(f[6]) or nil, tonumber(f[7]) }
end

-- nil when the record's fingerprint is the event's (or the record predates fingerprints: those
-- answer as repeats, as they did); else the first differing field and its value in the record,
-- when the record keeps it (ids are kept as hashes: nil; an absent value: cjson.null).
local function fp_conflict(p, ev)
  local was
  if p.fp then
    if p.fp == ev.fp then return nil end
    was = fp_fields(p.fp)
  elseif p.f then
    was = fp_fields_legacy(p.f)
  else
    return nil
  end
  local now = p.f and fp_fields_raw(ev) or fp_fields(ev.fp)
  for i, name in ipairs(FP_FIELDS) do
    if was[i] ~= now[i] then
      if p.f then
        local v = p.f[i]
        if i == 6 and v == 1 then v = cjson.null end
        return name, v == nil and cjson.null or v
      end
      if i == 1 then return name, FP_TYPES[was[1]] end
      if i == 2 or i == 3 then return name, nil end
      if i == 4 then return name, was[4] end
      if i == 5 then return name, was[5] ~= "" and was[5] or cjson.null end
      return name, was[i] == nil and cjson.null or was[i]
    end
  end
  return nil
end

-- Adds what stood after the event (available, the session's used) to its record, so that
-- GET /v1/accounts/:id/events/:eventId answers the processor's whole result.
local function remember_after(records, ev, av, su)
  local rec = records.by_key[ev.id]
  if rec then rec.av, rec.su = av, su end
end

-- What the event raised (a denial, an alert) and when, so that a redelivery answered `duplicate`
-- can raise its webhooks again until they are known to be queued (mark-webhooks-2.lua appends
-- ";q"; outbox.ts `settle`). Kept only on records of events that raised something: t the script's
-- time (ms), rq the denial's required credits, al/th the alert's level and threshold (the available
-- credits of both are the record's av), br 1 when it used its session's budget up (the session's
-- budget_reached is then this same t, which tells whether that budget is still in force).
local function remember_raised(records, ev, r, now)
  if not (r.denied or r.alert or r.br) then return end
  local rec = records.by_key[ev.id]
  if not rec then return end
  rec.raised = string.format("%d;%s;%s;%s;%s", now, r.denied and fmt(r.denied.required) or "",
    r.alert and r.alert.level or "", r.alert and fmt(r.alert.threshold) or "", r.br and "1" or "")
end

local function apply_event(ctx, a, ev, records)
  local mine = records.by_key[ev.id]
  local previous, stored_step
  if not mine then previous, stored_step = idem_lookup(ctx, a, ev, true) end
  if mine or previous then
    -- Already applied: a no-op, answered with the current snapshots so a retry re-pushes them.
    local p = mine and { fp = mine.fp, d = IDEM_CODES[mine.code].d, dr = IDEM_CODES[mine.code].dr }
      or idem_record_parse(previous) or {}
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
  local state = step_state(ctx, ev, stored_step)
  -- Every key the reply may get (here and in apply-events-4a) is named at construction, nil or
  -- not: Lua sizes the table for them once instead of growing it (a rehash) as they are set.
  local reply = { status = "applied", charged = 0, held = 0, decision = nil, dr = nil, denied = nil,
    progress = nil, charge = nil, br = nil, alert = nil, a = nil, av = nil, su = nil }

  -- A started for a step whose hold is still open is a repeat even if the step's state is gone:
  -- placing a second hold over the first would leave `held` above the holds. Reading the hold also
  -- means every key the script later writes has been read first (see apply-events-4a).
  if state == "completed" or state == "failed" or (kind == "started" and (state == "held" or hold_get(ctx, ref))) then
    reply.status = "ignored"
    remember(ctx, records, ev, "x", 0)
  elseif kind == "progress" then
    remember(ctx, records, ev, "a", 0)
    reply.progress = true
  elseif kind == "started" then
    local avail = available(a)
    -- The session budget (CONTRACT §10) is checked here, in the same script as the hold, so that
    -- concurrent steps of one session can never together hold past it. A zero-credit hold always
    -- passes; when the credits fall short too, that is the reason given.
    local budget = quote > 0 and session_budget(ctx, sid)
    local over_budget = budget and session_spent(ctx, sid) + quote > budget
    if quote > avail or over_budget then
      step_set(ctx, ev, "denied")
      reply.status = "denied"
      reply.decision = "denied"
      reply.dr = quote > avail and "insufficient_credits" or "session_budget"
      reply.denied = { required = quote, available = avail, reason = reply.dr }
      remember(ctx, records, ev, reply.dr == "session_budget" and "b" or "i", 0)
    else
      a.held = a.held + quote
      a.changed = true
      -- n orders holds newest-first for shrink_holds; seq moves once per batch, so the place in the
      -- batch breaks the tie (batches stay far below 1000 events).
      ctx.placed = (ctx.placed or 0) + 1
      hold_put(ctx, ref, { a = quote, x = ctx.now + ev.ttl_ms, n = a.seq * 1000 + ctx.placed, s = sid })
      session_add(ctx, sid, "reserved", quote)
      deadline_at_most(a, ctx.now + ev.ttl_ms)
      step_set(ctx, ev, "held")
      if quote > 0 then audit_event(ctx, a, "hold", quote, ev) end
      reply.held = quote
      reply.decision = "granted"
      reply.br = budget_reach(ctx, sid) or nil
      remember(ctx, records, ev, "g", quote)
    end
  else
    local released = hold_release(ctx, a, ref)
    if released > 0 then
      audit_event(ctx, a, "release", released, ev)
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
      audit_event(ctx, a, "charge", quote, ev)
      reply.charged = quote
      reply.charge = true
      reply.br = budget_reach(ctx, sid) or nil
      step_set(ctx, ev, "completed")
    else
      step_set(ctx, ev, "failed")
    end
    remember(ctx, records, ev, "a", reply.charged)
  end

  reply.alert = evaluate_alerts(a)
  return reply
end
