--[[
  Applies a batch of stage events, in order, atomically and idempotently (CONTRACT §2): the same
  as applying them one at a time, but each account is loaded, caught up (maintain) and written
  back once per batch, and the batch costs one round trip. Accounts may differ; on a Redis
  Cluster the caller sends one batch per slot.

  KEYS, seven per event i (from 7(i-1)+1): account hash, holds hash, audit stream, the session's
        totals (lib/session), the step's state and the eventId's idempotency record in the layout
        before (read only, while they can exist: lib/idem), the account's per-minute charges (lib/burn).
        Every key an event names is declared. What cannot be known before the call is built from
        the key prefix, in the account's hash slot, as BullMQ's scripts build their job keys
        (docs/scale-out.md): the sessions of holds that expire or shrink (maintain finds them), and
        the idempotency generations (lib/idem: which ones depends on the script's clock).
  ARGV[1] ledger retention ms (with "@<now ms>" under a test's virtual clock: lib/context),
        ARGV[2] the price book's version; then eighteen per event i (from
        18(i-1)+3): key prefix ("<ns>:{<accountId>}:"), idempotency retention ms, eventId, type
        (started|progress|completed|failed), sessionId, stepId, action, stage, model ("" for none),
        the quote on the free, plus and pro plans (the hold for started, the charge for completed),
        hold ttl ms, the event's fingerprint (fingerprint.ts fingerprintArgument: its field
        and its step's field in the generation hashes, then its compact fingerprint), the charge's units
        ("" for flat actions), its rate on the free, plus and pro plans

  Returns JSON { now, accounts = [ { account, changed, deadline?, sessions = { sid = snapshot }, burn? } ],
    events = [ { a = index in accounts, status, charged, held, decision?, dr? (denyReason), av, su, alert?, denied?,
    charge?, progress?, repush?, owed? (a duplicate's first raised webhooks: { t, rq?, av?, al?, th?, br? }) } (lib/apply) or { error = "unknown_account" } or
    { error = "conflict", field, was } (a reused eventId with another fingerprint: not applied) ] }.
  av and su are the account's available credits and the session's used credits right after
  that event; burn (C of lib/burn) comes when the batch charged or carries a planned session; sessions holds, as they end, the sessions the batch touched and those of repeated
  events (re-pushed so a retry after a crash converges the panels).
]]
--- @include "lib/apply"

local retention_ms, now, virtual = retention_and_clock(ARGV[1])
local pbv = ARGV[2]
local by_key, accounts, events = {}, {}, {}
local records = new_records()
local ev = { pbv = pbv }

for i = 1, #KEYS / 7 do
  local k, v = 7 * (i - 1), 18 * (i - 1) + 2
  local st = by_key[KEYS[k + 1]]
  if st == nil then
    local ctx = account_context(KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], ARGV[v + 1], retention_ms, now, virtual)
    ctx.burn_key = KEYS[k + 7]
    local a = load_account(ctx.acct)
    st = false
    if a then
      maintain(ctx, a)
      accounts[#accounts + 1] = { ctx = ctx, a = a, repushed = {} }
      st = #accounts
    end
    by_key[KEYS[k + 1]] = st
  end
  if not st then
    events[i] = { error = "unknown_account" }
  else
    local acc = accounts[st]
    local plan = acc.a.plan
    -- Arguments 10-12 and 16-18 are per plan, in this order.
    local p = (plan == "plus" and 1) or (plan == "pro" and 2) or 0
    -- One table for every event of the batch, each of its fields set anew here: nothing keeps an
    -- event past its turn (records, steps and audit entries copy what they need), and a new
    -- table of twenty fields per event was an allocation and garbage of about 1.3 KB each.
    ev.idem_ms, ev.id, ev.kind, ev.sid = tonumber(ARGV[v + 2]), ARGV[v + 3], ARGV[v + 4], ARGV[v + 5]
    ev.step, ev.action, ev.stage, ev.model = ARGV[v + 6], ARGV[v + 7], ARGV[v + 8], ARGV[v + 9]
    ev.quote, ev.ttl_ms, ev.units, ev.rate = tonumber(ARGV[v + 10 + p]), tonumber(ARGV[v + 13]), ARGV[v + 15], ARGV[v + 16 + p]
    ev.step_key, ev.evt_key = KEYS[k + 5], KEYS[k + 6]
    -- The fingerprint argument: the event's and its step's fields (lib/idem), a UUID eventId's
    -- packed audit form (".", 23 characters: lib/audit audit_event), then the compact fingerprint.
    local fparg = ARGV[v + 14]
    ev.efield, ev.sfield = string.sub(fparg, 1, 28), string.sub(fparg, 29, 42)
    if string.byte(fparg, 43) == 46 then
      ev.aid, ev.fp = string.sub(fparg, 43, 65), string.sub(fparg, 66)
    else
      ev.aid, ev.fp = ev.id, string.sub(fparg, 43)
    end
    session_declare(acc.ctx, ev.sid, KEYS[k + 4])
    local r = apply_event(acc.ctx, acc.a, ev, records)
    -- A conflict (r.error) is answered as it is: the event was not applied.
    if not r.error then
      r.a = st - 1
      r.av = available(acc.a)
      r.su = tonumber(session_get(acc.ctx, ev.sid).fields.used) or 0
      if r.status ~= "duplicate" then
        remember_after(records, ev, r.av, r.su)
        remember_raised(records, ev, r, now)
      end
      r.alert = alert_reply(r.alert)
      -- A repeat re-pushes its session (a retry after a crash before the push), changed or not.
      if r.repush then acc.repushed[ev.sid] = true end
    end
    events[i] = r
  end
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
  local moved = close_account(acc.ctx, acc.a)
  idem_flush(acc.ctx, acc.a)
  local sessions = {}
  for sid, _ in pairs(acc.ctx.touched) do sessions[sid] = session_snapshot(acc.ctx, sid) end
  for sid, _ in pairs(acc.repushed) do sessions[sid] = session_snapshot(acc.ctx, sid) end
  out[i] = { account = account_view(acc.a), changed = acc.a.changed, sessions = sessions,
    deadline = moved and acc.a.next_deadline or nil, burn = acc.ctx.burn and fmt(burn_total(acc.ctx)) or nil }
end
for _, acc in ipairs(accounts) do audit_flush(acc.ctx) end
return cjson.encode({ now = now, accounts = out, events = events })
