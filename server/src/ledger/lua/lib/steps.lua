--[[
  Where each step stands: one string key per (account, session, step) at
  ctx.prefix .. "st:" .. sessionId .. "/" .. stepId -> "held" | "denied" | "completed" | "failed",
  declared in KEYS by the caller (event-batch.ts), and set with the idempotency retention of the
  latest event that moved it. Each step's record therefore lives as long as the eventIds that
  moved it, and a session that keeps getting new steps does not keep its old ones alive (the
  previous layout, one hash per session whose TTL every write renewed, did: it grew without end).
  A step moves a handful of times at most, so renewing its own key bounds nothing away.
  A state set earlier in the same script is read from ctx.steps.
]]
local function step_state(ctx, key, sid, step)
  local s = ctx.steps and ctx.steps[key]
  if s then return s.state end
  local state = redis.call("GET", key)
  if state then return state end
  -- Migration, reads only (both in the account's slot): the previous release kept a hash per
  -- session ("steps:<sid>"), the first one a hash per step ("step:<sid>/<step>"). Until those have
  -- expired (the idempotency retention after this release is deployed), a step without a record
  -- of its own is looked up there too, or a step held or ended before the upgrade could be held or
  -- charged again by a new eventId. Remove these lookups after that.
  return redis.call("HGET", ctx.prefix .. "steps:" .. sid, step)
    or redis.call("HGET", ctx.prefix .. "step:" .. sid .. "/" .. step, "state") or nil
end

local function step_set(ctx, key, state, keep_ms)
  ctx.steps = ctx.steps or {}
  local s = ctx.steps[key]
  if not s then
    s = { keep_ms = 0 }
    ctx.steps[key] = s
  end
  s.state = state
  -- Within a batch the longest retention wins. Across scripts a later event may set up to the
  -- clock skew the consumer accepts (5 min) less than an earlier one: the earlier event's own
  -- record still answers its repeats, so nothing is charged twice by that.
  if keep_ms > s.keep_ms then s.keep_ms = keep_ms end
end

-- SET cannot fail, whatever the key held: this write needs no read before it.
local function steps_flush(ctx)
  if not ctx.steps then return end
  for key, s in pairs(ctx.steps) do redis.call("SET", key, s.state, "PX", s.keep_ms) end
  ctx.steps = nil
end
