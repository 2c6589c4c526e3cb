--[[
  The audit trail: a Redis Stream per account (the "log" key) of ledger movements, each with the
  balance after it and the running total of charges (`cum`, since v1.1). The hold, release and
  charge movements of one script are packed into one entry (see audit_write_run); the rare kinds
  are one entry each, their fields named. Stream ids are Redis-clock milliseconds, so `at` and the usage
  window come from the id; MINID trimming enforces the retention.
  Needs: ctx.log (key), ctx.now (ms), ctx.retention_ms.
  Entries are queued with the balance at the moment of the movement and written by audit_flush,
  after the state they describe. The XADD is the one write on a key a script does not otherwise
  read, so audit_check looks at the key's type when the account's context is made, before any
  write: a log of the wrong type fails the script before it has written anything.
]]
local function audit_check(log, now, virtual)
  local t = redis.call("TYPE", log).ok
  if t ~= "stream" and t ~= "none" then
    error({ err = "WRONGTYPE the audit trail " .. log .. " is a " .. t .. ", not a stream: nothing was written" })
  end
  -- Under a test's virtual clock the entries' ids are "<now>-*", which XADD refuses below the
  -- stream's last id: refuse a clock behind the trail here, before any write, not at the XADD.
  if virtual and t == "stream" then
    local last = redis.call("XREVRANGE", log, "+", "-", "COUNT", 1)[1]
    local ms = last and tonumber(string.match(last[1], "^(%d+)")) or 0
    if ms > now then
      error({ err = "ERR the virtual clock (" .. fmt(now) .. ") is behind the audit trail's last entry (" .. last[1] .. "): nothing was written" })
    end
  end
end

-- The packed layout (docs/ledger.md "Audit trail layout", read by ledger/audit-entries.ts): hold,
-- release and charge movements are values at fixed positions, so no field name is stored per
-- movement. Position (1-based here) of each named field, after the kind letter (1) and amt (2),
-- av (3), hd (4), od (5); a hold or release has AUDIT_WIDTH.h positions, a charge AUDIT_WIDTH.c.
local AUDIT_LETTER = { hold = "h", release = "r", charge = "c" }
local AUDIT_POS = { eid = 6, sid = 7, act = 8, step = 9, stg = 10, mdl = 11, units = 12, rate = 13, pbv = 14 }
local AUDIT_WIDTH = { h = 9, r = 9, c = 14 }
-- A packed entry holds at most this many movements (a reverse page reads whole entries).
local AUDIT_RUN_MAX = 100

local function audit(ctx, a, kind, amount, fields)
  ctx.minid = ctx.minid or fmt(ctx.now - ctx.retention_ms)
  ctx.audit_queue = ctx.audit_queue or {}
  local letter = AUDIT_LETTER[kind]
  if letter then
    -- The balance stays numbers until written: audit_write_run leaves out what follows from the
    -- movement before it.
    local v = { letter, fmt(amount), available(a), a.held, a.overdraft }
    local packable = true
    for i = 1, #fields, 2 do
      local p, x = AUDIT_POS[fields[i]], fields[i + 1]
      if not p then packable = false break end
      v[p] = x or ""
    end
    -- Ids, actions and stages are of [A-Za-z0-9._-] (validated at the boundary); a model and the
    -- price book's version are free text: one holding a separator (, |) or the ditto (^) is
    -- written in the named layout instead, never escaped.
    if packable and letter == "c" and string.find((v[11] or "") .. (v[14] or ""), "[,|^]") then packable = false end
    if packable then
      ctx.audit_queue[#ctx.audit_queue + 1] = { v = v, amt = amount, charge = letter == "c" and amount or 0, cum = a.tot_charged }
      return
    end
  end
  -- The named layout: one entry per movement.
  -- Under a test's virtual clock the entry's time is that clock's ("<ms>-*": Redis 7 picks the
  -- sequence), so `at` and the usage windows follow it; otherwise Redis's own clock ("*").
  local args = { ctx.log, "MINID", "~", ctx.minid, ctx.virtual and (fmt(ctx.now) .. "-*") or "*",
    "k", kind, "amt", fmt(amount),
    "av", fmt(available(a)), "hd", fmt(a.held), "od", fmt(a.overdraft),
    -- cum: everything the account was ever charged (tot_charged) as of this entry, so the
    -- charges since any instant are one lookup away (start-cycle-5's `used`), not a scan.
    "cum", fmt(a.tot_charged) }
  -- fields: a list of name, value pairs, no value nil (a list keeps their order and costs less
  -- than a map); empty values are left out.
  if fields then
    for i = 1, #fields, 2 do
      local v = fields[i + 1]
      if v ~= nil and v ~= "" then
        args[#args + 1] = fields[i]
        args[#args + 1] = v
      end
    end
  end
  ctx.audit_queue[#ctx.audit_queue + 1] = { args = args }
end

-- An event's hold, release or charge (lib/apply), queued as audit() queues it, without building its
-- list of fields: the event's values go straight to their positions, in a table made at its size.
-- A charge whose model or price book version holds a separator takes audit()'s named layout.
local function audit_event(ctx, a, kind, amount, ev)
  local letter = AUDIT_LETTER[kind]
  if letter == "c" and (string.find(ev.model, "[,|^]") or string.find(ev.pbv, "[,|^]")) then
    return audit(ctx, a, kind, amount, { "eid", ev.id, "sid", ev.sid, "act", ev.action, "stg", ev.stage,
      "mdl", ev.model, "step", ev.step, "units", ev.units, "rate", ev.rate, "pbv", ev.pbv })
  end
  ctx.minid = ctx.minid or fmt(ctx.now - ctx.retention_ms)
  ctx.audit_queue = ctx.audit_queue or {}
  -- ev.aid: the eventId as a packed entry keeps it, a UUID in 23 characters instead of 36 (the
  -- caller's: ledger/audit-ids.ts, expanded on read); the named layout keeps ev.id.
  local v
  if letter == "c" then
    v = { letter, fmt(amount), available(a), a.held, a.overdraft, ev.aid, ev.sid, ev.action, ev.step, ev.stage,
      ev.model, ev.units, ev.rate, ev.pbv }
  else
    v = { letter, fmt(amount), available(a), a.held, a.overdraft, ev.aid, ev.sid, ev.action, ev.step }
  end
  ctx.audit_queue[#ctx.audit_queue + 1] = { v = v, amt = amount, charge = letter == "c" and amount or 0, cum = a.tot_charged }
end

-- The balance after a movement as it follows from the balance after the one before it: a hold
-- moves credits from available to held, a release back; a charge draws what is available and
-- the rest is overdraft (lib/apply). Mirrored by ledger/audit-entries.ts `derived`.
local function audit_derived(letter, amt, av, hd, od)
  if letter == "h" then return av - amt, hd + amt, od end
  if letter == "r" then return av + amt, hd - amt, od end
  local drawn = math.min(amt, av)
  return av - drawn, hd, od + amt - drawn
end

-- Writes one packed entry: "<cum before>" then "|" and each movement's positions joined by ","
-- ("^": the value at that position in the latest earlier movement that has it; an empty av, hd
-- or od: as derived from the movement before (audit_derived), never on the first; trailing empty
-- positions left out). Its id (Redis's, as for any entry) is its first movement's; XSETID moves the
-- stream's last id past the others (<ms>-<seq + k - 1>), so the next entry, whoever writes it, gets
-- an id above every movement of this one, and every movement keeps its own ms-seq id.
local function audit_write_run(ctx, run, cum0)
  local parts, prev = { fmt(cum0) }, {}
  local pav, phd, pod
  for _, q in ipairs(run) do
    local v = q.v
    local av, hd, od = v[3], v[4], v[5]
    if pav then
      local dav, dhd, dod = audit_derived(v[1], q.amt, pav, phd, pod)
      v[3] = av == dav and "" or fmt(av)
      v[4] = hd == dhd and "" or fmt(hd)
      v[5] = od == dod and "" or fmt(od)
    else
      v[3], v[4], v[5] = fmt(av), fmt(hd), fmt(od)
    end
    pav, phd, pod = av, hd, od
    local width = AUDIT_WIDTH[v[1]]
    local last = 5
    for i = 6, width do
      local x = v[i] or ""
      if x ~= "" then
        last = i
        if prev[i] == x then v[i] = "^" else v[i] = x end
      else
        v[i] = ""
      end
      prev[i] = x
    end
    parts[#parts + 1] = table.concat(v, ",", 1, last)
  end
  local id = redis.call("XADD", ctx.log, "MINID", "~", ctx.minid, ctx.virtual and (fmt(ctx.now) .. "-*") or "*",
    "m", table.concat(parts, "|"))
  if #run > 1 then
    local ms, seq = string.match(id, "^(%d+)-(%d+)$")
    redis.call("XSETID", ctx.log, ms .. "-" .. fmt(tonumber(seq) + #run - 1))
  end
end

-- Writes the queued movements in order: each run of consecutive hold/release/charge movements as
-- one packed entry (a new one when `cum` does not follow from the run's charges, as a check), the
-- others one named entry each.
local function audit_flush(ctx)
  if not ctx.audit_queue then return end
  local run, cum0, cum = {}, 0, 0
  for _, q in ipairs(ctx.audit_queue) do
    if q.v and #run > 0 and (q.cum ~= cum + q.charge or #run >= AUDIT_RUN_MAX) then
      audit_write_run(ctx, run, cum0)
      run = {}
    end
    if q.v then
      if #run == 0 then cum0 = q.cum - q.charge end
      run[#run + 1] = q
      cum = q.cum
    else
      if #run > 0 then audit_write_run(ctx, run, cum0) run = {} end
      redis.call("XADD", unpack(q.args))
    end
  end
  if #run > 0 then audit_write_run(ctx, run, cum0) end
  ctx.audit_queue = nil
end
