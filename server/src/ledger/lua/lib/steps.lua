--[[
  Where each step stands: "held" | "denied" | "completed" | "failed", a field of the account's
  current idempotency generation (lib/idem: "s<13 of SHA-1 of sid/step>"), written with the retention of the
  latest event that moved it. Its generation expires no earlier than that, and a session that keeps
  getting new steps keeps no old ones alive. A state set earlier in the same script is read from
  ctx.steps; else `stored` is what idem_lookup found (newest generation first, then the layouts before).
]]
local function step_state(ctx, ev, stored)
  local s = ctx.steps and ctx.steps[ev.sfield]
  if s then return s.state end
  return stored
end

local function step_set(ctx, ev, state)
  ctx.steps = ctx.steps or {}
  local s = ctx.steps[ev.sfield]
  if not s then
    s = { keep_ms = 0 }
    ctx.steps[ev.sfield] = s
  end
  s.state = state
  -- Within a batch the longest retention wins. Across scripts a later event may set up to the
  -- clock skew the consumer accepts (5 min) less than an earlier one: the earlier event's own
  -- record still answers its repeats, so nothing is charged twice by that.
  if ev.idem_ms > s.keep_ms then s.keep_ms = ev.idem_ms end
end
