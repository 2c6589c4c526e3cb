--[[
  The audit trail: a Redis Stream per account (the "log" key), one entry per ledger movement,
  with the balance after it and the running total of charges (`cum`, since v1.1). Stream ids are Redis-clock milliseconds, so `at` and the usage
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

local function audit(ctx, a, kind, amount, fields)
  ctx.minid = ctx.minid or fmt(ctx.now - ctx.retention_ms)
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
  ctx.audit_queue = ctx.audit_queue or {}
  ctx.audit_queue[#ctx.audit_queue + 1] = args
end

local function audit_flush(ctx)
  if not ctx.audit_queue then return end
  for _, args in ipairs(ctx.audit_queue) do redis.call("XADD", unpack(args)) end
  ctx.audit_queue = nil
end
