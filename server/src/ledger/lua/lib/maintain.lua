--[[
  Work that time makes due, done lazily and atomically at the start of every script (and by the
  sweeper): the subscription bucket is gone at its cycle end (no rollover), and holds whose
  time-to-live passed return to available. Each is written to the audit trail as an `expiry`
  entry (CONTRACT §4 v1.1): the bucket's with `bucket`, a hold's with its session and step.
]]
-- Releases the holds whose time-to-live ended at or before `upto` (ms), zero-credit ones too:
-- a step that never ends must not keep its hold (and the hash field) for ever.
local function release_expired(ctx, a, upto)
  for _, item in ipairs(all_holds(ctx)) do
    if item.h.x <= upto then
      local released = hold_release(ctx, a, item.ref)
      local sid, step = string.match(item.ref, "^([^/]+)/(.+)$")
      -- amount = the credits it returned; a zero-credit hold wrote no `hold` entry, and returns nothing.
      if released > 0 then audit(ctx, a, "expiry", released, { "sid", sid or "", "step", step or "", "why", "hold" }) end
    end
  end
end

local function maintain(ctx, a)
  local due = tonumber(a.next_deadline or "")
  if a.next_deadline == nil then due = 0 end
  if due == nil or due > ctx.now then return end
  -- In time order: holds that expired before the cycle end are released before it shrinks the rest.
  if a.sub_rem > 0 and a.sub_end <= ctx.now then
    release_expired(ctx, a, a.sub_end)
    local gone = a.sub_rem
    a.sub_rem = 0
    a.tot_expired = a.tot_expired + gone
    a.changed = true
    shrink_holds(ctx, a)
    audit(ctx, a, "expiry", gone, { "bucket", a.sub_id })
  end
  release_expired(ctx, a, ctx.now)
  compute_deadline(ctx, a)
end
