--[[
  The account's recent spend, for the session forecast's burn rate (CONTRACT §10): credits charged
  per minute in a small hash, ctx.burn_key when the script declares it (else built from the
  prefix, in the account's slot: "<prefix>burn"), field = the minute
  (floor(ms / 60000) of the script's clock), value = the credits stage charges took in it.

  C, "the credits charged over the last 5 minutes", estimates the trailing 300 s of the script's
  clock (now − 300 s, now]: the current minute and the four before it in full, plus the part of
  minute m−5 still inside that span, floor(by[m−5] × (60000 − now % 60000) / 60000) (integer
  credits). Summing only the current minute and the four before it covered 4–5 minutes and read
  C low (a steady 100/min showed 80 right after a minute boundary); prorating the oldest bucket
  makes C unbiased, off by at most that bucket's spread within its minute (docs/ledger.md).
  Only charges of work count (a negative adjustment is a correction, not a burn rate).

  Kept for the hot path: the hash is read at most once per script and only when the script charges
  or answers for a session with a plan; it is written once, at close, with the minutes that left
  the window (m−6 and older) deleted, and it expires 7 minutes after the first charge of its
  newest minute: never more than six fields after a write.
]]
local BURN_MINUTE_MS = 60000
local BURN_WINDOW_MINUTES = 5
-- A minute counts (prorated) until the end of the fifth minute after it: at most 6 minutes after
-- its first charge; 6 would leave no slack for a first charge in its minute's first ms, so one more.
local BURN_TTL_MS = (BURN_WINDOW_MINUTES + 2) * BURN_MINUTE_MS

local function burn_key(ctx) return ctx.burn_key or (ctx.prefix .. "burn") end

local function burn_minute(ctx) return math.floor(ctx.now / BURN_MINUTE_MS) end

-- Reads the counters once per script (before any write: a wrong-typed key fails here, not halfway).
local function burn_load(ctx)
  if ctx.burn then return ctx.burn end
  local raw = redis.call("HGETALL", burn_key(ctx))
  local b = { by = {}, dirty = false }
  for i = 1, #raw, 2 do
    local minute = tonumber(raw[i])
    if minute then b.by[minute] = tonumber(raw[i + 1]) or 0 end
  end
  ctx.burn = b
  return b
end

-- Counts a charge in the current minute.
local function burn_add(ctx, credits)
  if credits <= 0 then return end
  local b = burn_load(ctx)
  local m = burn_minute(ctx)
  -- A minute's first charge sets the key's time-to-live (see burn_flush); later ones only add.
  if b.by[m] == nil then b.fresh = true end
  b.by[m] = (b.by[m] or 0) + credits
  b.dirty = true
end

-- Loads the counters before the first write when a session the reply carries has a plan, so its
-- forecast (burn_total) needs no read after the writes. `sids`: a set of session ids.
local function burn_prepare(ctx, sids)
  if ctx.burn then return end
  for sid, _ in pairs(sids) do
    local planned = session_get(ctx, sid).fields.planned
    if planned and planned ~= "" then
      burn_load(ctx)
      return
    end
  end
end

-- C: the credits charged over the trailing 5 minutes: the current minute and the four before it,
-- plus the share of minute m−5 still inside the span (0 when never loaded).
local function burn_total(ctx)
  local b = ctx.burn
  if not b then return 0 end
  local m = burn_minute(ctx)
  local c = 0
  for minute, credits in pairs(b.by) do
    if minute > m - BURN_WINDOW_MINUTES and minute <= m then c = c + credits end
  end
  local oldest = b.by[m - BURN_WINDOW_MINUTES]
  if oldest then
    -- Exact: oldest × (60000 − r) is an integer far below 2^53, so the division rounds only below 1/60000.
    c = c + math.floor(oldest * (BURN_MINUTE_MS - ctx.now % BURN_MINUTE_MS) / BURN_MINUTE_MS)
  end
  return c
end

-- Writes the current minute back (after every read of the script), dropping minutes out of the window
-- (m−6 and older: m−5 still counts in part).
local function burn_flush(ctx)
  local b = ctx.burn
  if not b or not b.dirty then return end
  local key = burn_key(ctx)
  local m = burn_minute(ctx)
  local stale = {}
  for minute, _ in pairs(b.by) do
    if minute < m - BURN_WINDOW_MINUTES then stale[#stale + 1] = fmt(minute) end
  end
  if #stale > 0 then redis.call("HDEL", key, unpack(stale)) end
  redis.call("HSET", key, fmt(m), fmt(b.by[m]))
  -- Set at a minute's first charge, 7 minutes on: the minute counts until the end of the fifth
  -- minute after it, at most 6 minutes after that first charge, so later charges of the same
  -- minute need not renew it (one call fewer per batch on the hot path).
  if b.fresh then redis.call("PEXPIRE", key, BURN_TTL_MS) end
  b.dirty = false
  b.fresh = false
end
