--[[
  Applies a batch of stage events, in order, atomically and idempotently (CONTRACT §2): the same
  as applying them one at a time, but each account is loaded, caught up (maintain) and written
  back once per batch, and the batch costs one round trip. Accounts may differ; on a Redis
  Cluster the caller sends one batch per slot.

  The layout (the eighth session's: docs/ledger.md "The event script's call"). What is the same
  for every event of an account is sent once per account, each event sends only what differs, and
  the keys an event names that the script can build from the account's prefix are built here, in
  the account's hash slot, as BullMQ's scripts build their job keys (docs/scale-out.md). The caller
  (ledger/batch-call.ts) puts each account's events together, in their order, accounts in the order
  they first appear: events of different accounts share no state, so this is the same as the
  batch's own order (the caller maps the answers back).

  KEYS, four per account j (from 4(j-1)+1): account hash, holds hash, audit stream, per-minute
        charges (lib/burn). Built from the prefix, undeclared: each event's session totals
        ("<prefix>sess:<sid>", lib/session), the sessions of holds that expire or shrink (maintain),
        the idempotency generations (lib/idem: which ones depends on the script's clock) and, only
        while an account can still have them, the keys of the layouts before (lib/idem).
  ARGV[1] ledger retention ms (with "@<now ms>" under a test's virtual clock: lib/context),
        ARGV[2] the price book's version, ARGV[3] the idempotency retention ms (the longest of the
        batch's events: remembering one a few minutes longer is safe, lib/idem);
        then per account, in KEYS order: its key prefix ("<ns>:{<accountId>}:"), its number of
        events m, then its m events, each (read_event):
          the fingerprint argument (fingerprint.ts fingerprintArgument: the event's field and its
          step's field in the generation hashes, a UUID eventId's packed audit form, then the compact
          fingerprint, whose first letter is the event's type: s, p, c, f), eventId, sessionId,
          stepId, action; then
          started:   the hold on the account's plan (see below), hold ttl ms;
          completed: the charge on the account's plan, model ("" none), stage, units ("" for flat
                     actions), rate on the account's plan;
          progress, failed: nothing more.
        An amount or rate "on the account's plan" is one number when the free, plus and pro plans
        agree, else "<free>,<plus>,<pro>" (the caller does not know the plan).
  A layout this script does not read to the last argument is refused before any write.

  An account none of whose events was answered (each a conflict) evaluates its alerts once, after
  its catch-up (maintain) changed it, as a read's catch-up does (touch-3.lua): an alert that raised
  comes as the account's `alert` and `raised` and is kept among its pending raises (`wp`,
  lib/raised.lua) until queued. An event applied, denied or ignored evaluates them (lib/apply), so
  nothing is added per event. An account answered only duplicates evaluates none: its catch-up's
  crossing is the sweeper's (docs/webhooks.md "Pending raises").
  Returns JSON, the events answered in the order sent (each account's together): { now, accounts = [ { account, changed, deadline?, sessions = { sid = snapshot }, burn?, alert?, raised? } ],
    events = [ { a = index in accounts, status, charged, held, decision?, dr? (denyReason), av, su, alert?, denied?,
    charge?, progress?, repush?, owed? (a duplicate's first raised webhooks: { t, rq?, av?, al?, th?, br? }) } (lib/apply) or { error = "unknown_account" } or
    { error = "conflict", field, was } (a reused eventId with another fingerprint: not applied) ] }.
  av and su are the account's available credits and the session's used credits right after
  that event; burn (C of lib/burn) comes when the batch charged or carries a planned session; sessions holds, as they end, the sessions the batch touched and those of repeated
  events (re-pushed so a retry after a crash converges the panels).
]]
--- @include "lib/apply"
--- @include "lib/event-args"
--- @include "lib/raised"

local retention_ms, now, virtual = retention_and_clock(ARGV[1])
local accounts, events, by_key = {}, {}, {}
-- One table for every event of the batch, each of its fields set anew by read_event: nothing keeps
-- an event past its turn (records, steps and audit entries copy what they need), and a new table of
-- twenty fields per event was an allocation and garbage of about 1.3 KB each.
local ev = { pbv = ARGV[2], idem_ms = tonumber(ARGV[3]) }
local UNKNOWN = { error = "unknown_account" }

-- Whether any of events[first..] was answered (not refused): the account's events of this batch.
local function answered_from(list, first)
  for i = first, #list do
    if not list[i].error then return true end
  end
  return false
end

-- Reads the event whose arguments follow ARGV[v] into `ev` (see the header); returns the index of
-- its last argument.
local function read_event(v, p)
  local fparg = ARGV[v + 1]
  ev.id, ev.sid, ev.step, ev.action = ARGV[v + 2], ARGV[v + 3], ARGV[v + 4], ARGV[v + 5]
  ev.efield, ev.sfield = string.sub(fparg, 1, 28), string.sub(fparg, 29, 42)
  if string.byte(fparg, 43) == 46 then
    ev.aid, ev.fp = string.sub(fparg, 43, 65), string.sub(fparg, 66)
  else
    ev.aid, ev.fp = ev.id, string.sub(fparg, 43)
  end
  local kind = EVENT_KINDS[string.byte(ev.fp, 1)]
  -- fingerprint.ts writes "?" for a type it does not know, which the consumer never sends: no write yet.
  assert(kind, "apply-events-4a: an event of no known type")
  ev.kind = kind
  if kind == "started" then
    ev.quote, ev.ttl_ms, ev.model, ev.stage, ev.units, ev.rate = tonumber(on_plan(ARGV[v + 6], p)), tonumber(ARGV[v + 7]), "", "", "", ""
    return v + 7
  elseif kind == "completed" then
    ev.quote, ev.ttl_ms, ev.model, ev.stage = tonumber(on_plan(ARGV[v + 6], p)), 0, ARGV[v + 7], ARGV[v + 8]
    ev.units, ev.rate = ARGV[v + 9], on_plan(ARGV[v + 10], p)
    return v + 10
  end
  ev.quote, ev.ttl_ms, ev.model, ev.stage, ev.units, ev.rate = 0, 0, "", "", "", ""
  return v + 5
end

local v = 3
for j = 1, #KEYS / 4 do
  local k = 4 * (j - 1)
  local key, count = KEYS[k + 1], tonumber(ARGV[v + 2])
  -- Two contexts of one account would each write it back, the second over the first.
  if by_key[key] then return redis.error_reply("ERR apply-events-4a: account " .. key .. " sent twice") end
  by_key[key] = true
  local ctx = account_context(key, KEYS[k + 2], KEYS[k + 3], ARGV[v + 1], retention_ms, now, virtual)
  ctx.burn_key = KEYS[k + 4]
  v = v + 2
  local a = load_account(key)
  if not a then
    for _ = 1, count do
      v = read_event(v, 1)
      events[#events + 1] = UNKNOWN
    end
  else
    maintain(ctx, a)
    local acc = { ctx = ctx, a = a, repushed = {} }
    accounts[#accounts + 1] = acc
    local st = #accounts
    local p = (a.plan == "plus" and 2) or (a.plan == "pro" and 3) or 1
    -- The account's idempotency records of this script (lib/apply), by eventId.
    local records = new_records()
    local first = #events + 1
    for _ = 1, count do
      v = read_event(v, p)
      local r = apply_event(ctx, a, ev, records)
      -- A conflict (r.error) is answered as it is: the event was not applied.
      if not r.error then
        r.a = st - 1
        r.av = available(a)
        r.su = tonumber(session_get(ctx, ev.sid).fields.used) or 0
        if r.status ~= "duplicate" then
          remember_after(records, ev, r.av, r.su)
          remember_raised(records, ev, r, now)
        end
        r.alert = alert_reply(r.alert)
        -- A repeat re-pushes its session (a retry after a crash before the push), changed or not.
        if r.repush then acc.repushed[ev.sid] = true end
      end
      events[#events + 1] = r
    end
    -- No event answered (each a conflict), so none evaluated the alerts: the catch-up's crossing is
    -- raised here, once per account, and only when the catch-up changed it. A batch with no
    -- conflict stops at its first event.
    if a.changed and not answered_from(events, first) then
      acc.alert = evaluate_alerts(a)
      if acc.alert then acc.pending = raised_pending(a) end
    end
  end
end
-- Every argument read, and no key left over: a call of another layout is refused here, before any write.
if v ~= #ARGV or #KEYS % 4 ~= 0 then
  return redis.error_reply("ERR apply-events-4a: the call's layout is not this script's (" .. #KEYS .. " keys, " .. #ARGV .. " arguments)")
end
-- Everything above only read and computed (the audit streams' types were checked as their contexts
-- were made); what follows writes keys already read (so of the right type), SETs (which cannot
-- fail), then the audit entries on streams known to be streams. Redis does not roll back a script
-- that fails, so nothing that can fail comes after the first write.
for _, acc in ipairs(accounts) do
  -- A planned session's forecast needs the account's recent spend (lib/burn): read it now, before the writes.
  burn_prepare(acc.ctx, acc.ctx.touched)
  burn_prepare(acc.ctx, acc.repushed)
  sessions_encode(acc.ctx)
end
local out = {}
for i, acc in ipairs(accounts) do
  -- The seq the account has once close_account bumps it (it changed): the raise's key.
  local raised = acc.alert and raised_text(now, acc.a.seq + 1, acc.alert, false) or nil
  local moved = close_account(acc.ctx, acc.a)
  if raised then raised_keep(acc.ctx.acct, acc.pending, raised) end
  idem_flush(acc.ctx, acc.a)
  local sessions = {}
  for sid, _ in pairs(acc.ctx.touched) do sessions[sid] = session_snapshot(acc.ctx, sid) end
  for sid, _ in pairs(acc.repushed) do sessions[sid] = session_snapshot(acc.ctx, sid) end
  out[i] = { account = account_view(acc.a), changed = acc.a.changed, sessions = sessions,
    deadline = moved and acc.a.next_deadline or nil, burn = acc.ctx.burn and fmt(burn_total(acc.ctx)) or nil,
    alert = alert_reply(acc.alert), raised = raised }
end
for _, acc in ipairs(accounts) do audit_flush(acc.ctx) end
return cjson.encode({ now = now, accounts = out, events = events })
