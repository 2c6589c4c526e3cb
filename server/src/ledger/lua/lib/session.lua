--[[
  Per-session totals: a hash per (account, session) at ctx.prefix .. "sess:" .. sessionId, in the
  account's hash slot (the prefix carries the {account} tag). Fields: used, reserved, seq, one
  field per stage, last (JSON of the latest charge), and the session's budget (CONTRACT §10):
  budget (credits, "" or absent for none) and budget_reached (ms when used + reserved first
  reached the budget since it was set, "" before), and xp: the ms (script clock) before which the
  key cannot expire (see session_flush). A session is read once per script,
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
  local key = session_key(ctx, sid)
  local raw = redis.call("HGETALL", key)
  -- Empty: a new session, or (on a Redis Cluster node importing the account's slot, the call sent
  -- after ASKING) one not moved yet, which must not be read as zeros (its budget, its totals). Two
  -- keys of a slot being imported, one missing, fail the script before any write (TRYAGAIN's rule);
  -- elsewhere one call per new session (docs/scale-out.md "Slot migration").
  if #raw == 0 then redis.call("EXISTS", ctx.prefix .. "acct", key) end
  s = { fields = {}, dirty = {} }
  for i = 1, #raw, 2 do s.fields[raw[i]] = raw[i + 1] end
  -- The expiry mark is the key's, not the session's: kept apart, so snapshots never show it.
  s.xp = tonumber(s.fields.xp)
  s.fields.xp = nil
  ctx.sessions[sid] = s
  return s
end

local function session_set(ctx, sid, field, value)
  local s = session_get(ctx, sid)
  s.fields[field] = value
  s.dirty[field] = true
  ctx.touched[sid] = true
end

-- The sum stays a Lua number until the session is written or shown (session_encode): a batch adds
-- to the same totals many times, and formatting each sum cost a string.format per add.
local function session_add(ctx, sid, field, delta)
  local s = session_get(ctx, sid)
  s.fields[field] = (tonumber(s.fields[field]) or 0) + delta
  s.dirty[field] = true
  ctx.touched[sid] = true
end

-- A table value (the latest charge) is kept as a table until the session is written or shown:
-- a batch may replace it many times, and only the last one is ever encoded. Numbers (session_add)
-- are written as whole-number text, as they are stored.
local function session_encode(s)
  for f, v in pairs(s.fields) do
    local t = type(v)
    if t == "table" then
      s.fields[f] = cjson.encode(v)
    elseif t == "number" then
      s.fields[f] = fmt(v)
    end
  end
end

-- Encodes what the touched sessions hold as tables; a script calls it before its first write,
-- since encoding is the only part of writing them back that could fail.
local function sessions_encode(ctx)
  for sid, _ in pairs(ctx.touched) do session_encode(ctx.sessions[sid]) end
end

-- A session's expiry is pushed this far past the retention, so that it is pushed at most about
-- once a day per session rather than by every script that writes it (a PEXPIRE per session and
-- batch was ~0.4 of the ~2.5 Redis calls per event: docs/performance.md, eighth session).
local SESSION_EXPIRY_AHEAD_MS = 86400000
-- xp understates the expiry it records by this much: PEXPIRE counts from the time Redis took at
-- the script's start, a little before the TIME the script's clock comes from.
local SESSION_EXPIRY_MARGIN_MS = 60000

local function session_flush(ctx)
  -- CONTRACT: a session expires no earlier than the ledger retention after its last write. Its
  -- "xp" says until when its expiry was pushed; while that is at least the retention from now,
  -- the key already expires late enough and is not touched.
  local due = ctx.now + ctx.retention_ms
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
    if s.xp and s.xp >= due then
      redis.call("HSET", key, unpack(args))
    else
      s.xp = due + SESSION_EXPIRY_AHEAD_MS - SESSION_EXPIRY_MARGIN_MS
      args[#args + 1] = "xp"
      args[#args + 1] = fmt(s.xp)
      redis.call("HSET", key, unpack(args))
      redis.call("PEXPIRE", key, ctx.retention_ms + SESSION_EXPIRY_AHEAD_MS)
    end
    s.dirty = {}
  end
end

local function session_snapshot(ctx, sid)
  local s = session_get(ctx, sid)
  session_encode(s)
  return s.fields
end

-- The session's budget in credits, or nil when it has none (CONTRACT §10).
local function session_budget(ctx, sid)
  local b = session_get(ctx, sid).fields.budget
  if b == nil or b == "" then return nil end
  return tonumber(b)
end

-- What the session has taken from its budget: used + reserved.
local function session_spent(ctx, sid)
  local f = session_get(ctx, sid).fields
  return (tonumber(f.used) or 0) + (tonumber(f.reserved) or 0)
end

-- Marks the budget reached when its remaining is 0 for the first time since it was set; true
-- only then (the `session.budget_reached` webhook fires once per budget set). Only a hold, a
-- charge and setting a budget can bring remaining down, so those are the only callers.
local function budget_reach(ctx, sid)
  local b = session_budget(ctx, sid)
  if b == nil or (session_get(ctx, sid).fields.budget_reached or "") ~= "" then return false end
  if session_spent(ctx, sid) < b then return false end
  session_set(ctx, sid, "budget_reached", fmt(ctx.now))
  return true
end
