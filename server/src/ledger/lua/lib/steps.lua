--[[
  Where each step of a session stands: a hash per (account, session) at
  ctx.prefix .. "steps:" .. sessionId, field stepId -> "held" | "denied" | "completed" | "failed",
  kept as long as the eventIds that moved it (the idempotency retention, renewed on every write).
  One hash per session rather than a key per step: a batch writes a session's steps in one HSET
  and one PEXPIRE. A state set earlier in the same script is read from ctx.steps.
]]
local function steps_key(ctx, sid) return ctx.prefix .. "steps:" .. sid end

local function step_state(ctx, sid, step)
  local s = ctx.steps and ctx.steps[sid]
  if s and s.fields[step] then return s.fields[step] end
  -- HGET answers false for a missing field.
  local state = redis.call("HGET", steps_key(ctx, sid), step)
  if state then return state end
  -- Migration: the first release kept each step in its own key. Until those have expired (the
  -- idempotency retention, 30 days after this release is deployed), a step without an entry here
  -- is looked up there too, or a step held or ended before the upgrade could be held or charged
  -- again by a new eventId. Remove this lookup after that.
  return redis.call("HGET", ctx.prefix .. "step:" .. sid .. "/" .. step, "state") or nil
end

local function step_set(ctx, sid, step, state, keep_ms)
  ctx.steps = ctx.steps or {}
  local s = ctx.steps[sid]
  if not s then
    s = { fields = {}, keep_ms = 0 }
    ctx.steps[sid] = s
  end
  s.fields[step] = state
  if keep_ms > s.keep_ms then s.keep_ms = keep_ms end
end

local function steps_flush(ctx)
  if not ctx.steps then return end
  for sid, s in pairs(ctx.steps) do
    local args = {}
    for step, state in pairs(s.fields) do
      args[#args + 1] = step
      args[#args + 1] = state
    end
    local key = steps_key(ctx, sid)
    redis.call("HSET", key, unpack(args))
    -- Never shorten: another event of this session may have asked for longer.
    if redis.call("PTTL", key) < s.keep_ms then redis.call("PEXPIRE", key, s.keep_ms) end
  end
  ctx.steps = nil
end
