--[[
  Open holds of an account: a hash (ctx.holds) field "<sessionId>/<stepId>" -> JSON
  { a = credits held, x = expiry ms, n = placement order, s = sessionId }. The account keeps
  their sum in `held` and the earliest expiry in `next_deadline`.
  A script works on a copy in ctx.hold_map (ref -> JSON text, decoded table, or false for known
  absent), read field by field as events need them or whole when every hold is needed, and
  holds_flush writes what changed in one HSET and one HDEL: a batch of events places and releases
  many holds of an account, and a Redis call from Lua costs more than the Lua around it.
]]
local function holds_map(ctx)
  if not ctx.hold_map then ctx.hold_map, ctx.hold_dirty, ctx.holds_whole = {}, {}, false end
  return ctx.hold_map
end

local function hold_get(ctx, ref)
  local m = holds_map(ctx)
  local h = m[ref]
  if h == nil and not ctx.holds_whole then
    h = redis.call("HGET", ctx.holds, ref)
    m[ref] = h
  end
  if type(h) == "string" then
    h = cjson.decode(h)
    m[ref] = h
  end
  return h or nil
end

local function hold_put(ctx, ref, h)
  holds_map(ctx)[ref] = h
  ctx.hold_dirty[ref] = true
end

local function hold_delete(ctx, ref)
  holds_map(ctx)[ref] = false
  ctx.hold_dirty[ref] = true
end

-- Sends `cmd key f1 [v1] ...` in slices: unpack has a limit near 8000 values.
local function call_sliced(cmd, key, list)
  for i = 1, #list, 1000 do
    redis.call(cmd, key, unpack(list, i, math.min(i + 999, #list)))
  end
end

local function holds_flush(ctx)
  if not ctx.hold_dirty then return end
  local set, del = {}, {}
  for ref, _ in pairs(ctx.hold_dirty) do
    local h = ctx.hold_map[ref]
    if not h then
      del[#del + 1] = ref
    else
      set[#set + 1] = ref
      set[#set + 1] = type(h) == "string" and h or cjson.encode(h)
    end
  end
  call_sliced("HDEL", ctx.holds, del)
  call_sliced("HSET", ctx.holds, set)
  ctx.hold_dirty = {}
end

-- Releases a hold (or what is left of it) and returns the credits it held.
local function hold_release(ctx, a, ref)
  local h = hold_get(ctx, ref)
  if not h then return 0 end
  hold_delete(ctx, ref)
  a.held = a.held - h.a
  a.changed = true
  if h.a ~= 0 then session_add(ctx, h.s, "reserved", -h.a) end
  return h.a
end

-- Every open hold as { ref, h } (h decoded). Reads the whole hash once; what this script already
-- changed wins over what Redis still has.
local function all_holds(ctx)
  local m = holds_map(ctx)
  if not ctx.holds_whole then
    local raw = redis.call("HGETALL", ctx.holds)
    for i = 1, #raw, 2 do
      if m[raw[i]] == nil then m[raw[i]] = raw[i + 1] end
    end
    ctx.holds_whole = true
  end
  local list = {}
  for ref, v in pairs(m) do
    if v then list[#list + 1] = { ref = ref, h = hold_get(ctx, ref) } end
  end
  return list
end

-- When credits vanish under open holds, the holds shrink, newest first, until held fits what
-- remains. Their steps stay open and are still charged in full when they complete.
local function shrink_holds(ctx, a)
  local excess = a.held - total_remaining(a)
  if excess <= 0 then return end
  local list = all_holds(ctx)
  table.sort(list, function(x, y) return x.h.n > y.h.n end)
  for _, item in ipairs(list) do
    if excess <= 0 then break end
    local h = item.h
    local cut = math.min(h.a, excess)
    h.a = h.a - cut
    excess = excess - cut
    a.held = a.held - cut
    if cut > 0 then session_add(ctx, h.s, "reserved", -cut) end
    if h.a == 0 then hold_delete(ctx, item.ref) else hold_put(ctx, item.ref, h) end
  end
  a.changed = true
end

-- A new hold's expiry can only bring the next deadline forward. Releases leave it as it is: a
-- deadline that comes early finds nothing due and is recomputed then (see maintain).
local function deadline_at_most(a, at)
  local current = tonumber(a.next_deadline or "")
  if current == nil or at < current then a.next_deadline = fmt(at) end
end

-- The earliest moment something must happen without an event: a hold expiry or the cycle end.
local function compute_deadline(ctx, a)
  local d = nil
  if a.sub_rem > 0 and a.sub_end > 0 then d = a.sub_end end
  -- Every open hold, zero-credit ones included (held may be 0 while they are open): each must expire.
  for _, item in ipairs(all_holds(ctx)) do
    if d == nil or item.h.x < d then d = item.h.x end
  end
  a.next_deadline = d and fmt(d) or ""
end
