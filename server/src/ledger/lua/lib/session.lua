--[[
  Per-session totals: a hash per (account, session) at ctx.prefix .. "sess:" .. sessionId, in the
  account's hash slot (the prefix carries the {account} tag). Fields: used, reserved, seq, one
  field per stage, and last (JSON of the latest charge). Sessions a script changes are listed in
  ctx.touched so that the caller pushes their snapshots.
]]
local function session_key(ctx, sid) return ctx.prefix .. "sess:" .. sid end

local function session_change(ctx, sid, field, delta)
  local key = session_key(ctx, sid)
  if delta ~= 0 then redis.call("HINCRBY", key, field, delta) end
  redis.call("HINCRBY", key, "seq", 1)
  redis.call("PEXPIRE", key, ctx.retention_ms)
  ctx.touched[sid] = true
end

local function session_snapshot(ctx, sid)
  local raw = redis.call("HGETALL", session_key(ctx, sid))
  local s = {}
  for i = 1, #raw, 2 do s[raw[i]] = raw[i + 1] end
  return s
end
