--[[
  The audit trail: a Redis Stream per account (the "log" key), one entry per ledger movement,
  with the balance after it. Stream ids are Redis-clock milliseconds, so `at` and the usage
  window come from the id; MINID trimming enforces the retention.
  Needs: ctx.log (key), ctx.now (ms), ctx.retention_ms.
]]
local function audit(ctx, a, kind, amount, fields)
  local args = { ctx.log, "MINID", "~", fmt(ctx.now - ctx.retention_ms), "*",
    "k", kind, "amt", fmt(amount),
    "av", fmt(available(a)), "hd", fmt(a.held), "od", fmt(a.overdraft) }
  if fields then
    for k, v in pairs(fields) do
      if v ~= nil and v ~= "" then
        args[#args + 1] = k
        args[#args + 1] = v
      end
    end
  end
  redis.call("XADD", unpack(args))
end
