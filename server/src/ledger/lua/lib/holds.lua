--[[
  Open holds of an account: a hash (ctx.holds) field "<sessionId>/<stepId>" -> JSON
  { a = credits held, x = expiry ms, n = placement order, s = sessionId }. The account keeps
  their sum in `held` and the earliest expiry in `next_deadline`.
]]
local function hold_get(ctx, ref)
  local raw = redis.call("HGET", ctx.holds, ref)
  if not raw then return nil end
  return cjson.decode(raw)
end

local function hold_put(ctx, ref, h) redis.call("HSET", ctx.holds, ref, cjson.encode(h)) end

-- Releases a hold (or what is left of it) and returns the credits it held.
local function hold_release(ctx, a, ref)
  local h = hold_get(ctx, ref)
  if not h then return 0 end
  redis.call("HDEL", ctx.holds, ref)
  a.held = a.held - h.a
  a.changed = true
  if h.a ~= 0 then session_add(ctx, h.s, "reserved", -h.a) end
  return h.a
end

local function all_holds(ctx)
  local raw = redis.call("HGETALL", ctx.holds)
  local list = {}
  for i = 1, #raw, 2 do
    local h = cjson.decode(raw[i + 1])
    h.ref = raw[i]
    list[#list + 1] = h
  end
  return list
end

-- When credits vanish under open holds, the holds shrink, newest first, until held fits what
-- remains. Their steps stay open and are still charged in full when they complete.
local function shrink_holds(ctx, a)
  local excess = a.held - total_remaining(a)
  if excess <= 0 then return end
  local list = all_holds(ctx)
  table.sort(list, function(x, y) return x.n > y.n end)
  for _, h in ipairs(list) do
    if excess <= 0 then break end
    local cut = math.min(h.a, excess)
    h.a = h.a - cut
    excess = excess - cut
    a.held = a.held - cut
    if cut > 0 then session_add(ctx, h.s, "reserved", -cut) end
    local ref = h.ref
    h.ref = nil
    if h.a == 0 then redis.call("HDEL", ctx.holds, ref) else hold_put(ctx, ref, h) end
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
  if a.held > 0 then
    for _, h in ipairs(all_holds(ctx)) do
      if d == nil or h.x < d then d = h.x end
    end
  end
  a.next_deadline = d and fmt(d) or ""
end
