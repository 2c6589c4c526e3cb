--[[
  Per-session totals: a hash per (account, session) at ctx.prefix .. "sess:" .. sessionId, in the
  account's hash slot (the prefix carries the {account} tag). Fields: used, reserved, seq, one
  field per stage, and last (JSON of the latest charge). A session is read once per script,
  changed in memory, and written once by session_flush (seq + 1 for each changed session); the
  changed ones are listed in ctx.touched so that the caller pushes their snapshots.
]]
-- The declared key (KEYS, see session_declare) when the caller knew the session; otherwise (the
-- sessions of holds that expire or shrink) built from the prefix, in the account's slot.
local function session_key(ctx, sid)
  return (ctx.session_keys and ctx.session_keys[sid]) or (ctx.prefix .. "sess:" .. sid)
end

-- Records the KEYS entry the caller declared for a session.
local function session_declare(ctx, sid, key)
  ctx.session_keys = ctx.session_keys or {}
  ctx.session_keys[sid] = key
end

local function session_get(ctx, sid)
  local s = ctx.sessions[sid]
  if s then return s end
  local raw = redis.call("HGETALL", session_key(ctx, sid))
  s = { fields = {}, dirty = {} }
  for i = 1, #raw, 2 do s.fields[raw[i]] = raw[i + 1] end
  ctx.sessions[sid] = s
  return s
end

local function session_set(ctx, sid, field, value)
  local s = session_get(ctx, sid)
  s.fields[field] = value
  s.dirty[field] = true
  ctx.touched[sid] = true
end

local function session_add(ctx, sid, field, delta)
  session_set(ctx, sid, field, fmt((tonumber(session_get(ctx, sid).fields[field]) or 0) + delta))
end

-- A table value (the latest charge) is kept as a table until the session is written or shown:
-- a batch may replace it many times, and only the last one is ever encoded.
local function session_encode(s)
  for f, v in pairs(s.fields) do
    if type(v) == "table" then s.fields[f] = cjson.encode(v) end
  end
end

-- Encodes what the touched sessions hold as tables; a script calls it before its first write,
-- since encoding is the only part of writing them back that could fail.
local function sessions_encode(ctx)
  for sid, _ in pairs(ctx.touched) do session_encode(ctx.sessions[sid]) end
end

local function session_flush(ctx)
  for sid, _ in pairs(ctx.touched) do
    local s = ctx.sessions[sid]
    session_encode(s)
    s.fields.seq = fmt((tonumber(s.fields.seq) or 0) + 1)
    s.dirty.seq = true
    local args = {}
    for f, _ in pairs(s.dirty) do
      args[#args + 1] = f
      args[#args + 1] = s.fields[f]
    end
    local key = session_key(ctx, sid)
    redis.call("HSET", key, unpack(args))
    redis.call("PEXPIRE", key, ctx.retention_ms)
    s.dirty = {}
  end
end

local function session_snapshot(ctx, sid)
  local s = session_get(ctx, sid)
  session_encode(s)
  return s.fields
end
