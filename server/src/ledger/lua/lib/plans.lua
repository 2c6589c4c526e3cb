--[[
  The account's planned sessions (CONTRACT §10 forecast): a sorted set at ctx.prefix .. "plans"
  (in the account's slot), session id → ms its plan was set. A change of the account's credits or
  plan that no event of the session makes (a pack, an adjustment, a new cycle, another plan) moves
  every planned session's forecast: those scripts re-push the newest PLANS_REFRESH_MAX of them as
  session changes, so the shortfall warning a person sees goes when they buy credits, not at their
  video's next step. Bounded: a script touches at most that many sessions, and the set keeps only
  those newest PLANS_REFRESH_MAX (older ones are never read, and would pile up for the retention).
]]
local PLANS_REFRESH_MAX = 20

-- Declared by set-plan-6; the scripts that only refresh build it from the prefix, in the account's slot.
local function plans_key(ctx) return ctx.plans_key or (ctx.prefix .. "plans") end

-- The read set-plan makes before any write: a wrong-typed key fails here, so plans_record cannot.
local function plans_check(ctx) redis.call("ZSCORE", plans_key(ctx), "") end

-- Records (planned ~= "") or forgets a session's plan; after plans_check and every other read.
local function plans_record(ctx, sid, planned)
  local key = plans_key(ctx)
  if planned == "" then
    redis.call("ZREM", key, sid)
  else
    redis.call("ZADD", key, ctx.now, sid)
    redis.call("ZREMRANGEBYRANK", key, 0, -(PLANS_REFRESH_MAX + 1))
    redis.call("PEXPIRE", key, ctx.retention_ms)
  end
end

-- Marks the newest planned sessions changed (seq + 1, pushed with their forecast) and loads what
-- their forecast needs (lib/burn). Reads only: called before a script's first write.
local function plans_refresh(ctx)
  local key = plans_key(ctx)
  local sids = redis.call("ZREVRANGE", key, 0, PLANS_REFRESH_MAX - 1)
  -- Empty: no planned session, or (on a Redis Cluster node importing the account's slot, the call
  -- sent after ASKING) an index not moved yet, which must not be read as none (the change would
  -- re-push nothing). As session_get: a command naming the account hash and the index fails there
  -- when one is missing, before any write (TRYAGAIN's rule); elsewhere one call, only for an
  -- account without planned sessions (docs/scale-out.md "Slot migration").
  if #sids == 0 then redis.call("EXISTS", ctx.prefix .. "acct", key) end
  for _, sid in ipairs(sids) do
    local planned = session_get(ctx, sid).fields.planned
    if planned and planned ~= "" then session_set(ctx, sid, "planned", planned) end
  end
  burn_prepare(ctx, ctx.touched)
end
