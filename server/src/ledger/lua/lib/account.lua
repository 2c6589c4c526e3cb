--[[
  The account state: one hash per account (KEYS[1] of every script), loaded into a Lua table,
  changed in memory and written back once. Numbers are whole credits; times are ms since epoch.

  Fields: plan, created, thresholds (JSON), seq,
          sub_id, sub_granted, sub_rem, sub_start, sub_end   (the current cycle's bucket)
          packs (JSON list of {id, kind, granted, rem}, oldest first: packs and adjustments)
          held, overdraft, used,
          alerts (JSON map level -> "armed" | "fired" | "idle"), alert_dismissed,
          tot_granted, tot_charged, tot_debited, tot_expired, tot_forfeited (conservation),
          next_deadline (earliest hold expiry or cycle end still to process; "" for none)
]]
local NUMERIC = { "seq", "created", "sub_granted", "sub_rem", "sub_start", "sub_end", "held", "overdraft",
  "used", "tot_granted", "tot_charged", "tot_debited", "tot_expired", "tot_forfeited" }

local function load_account(key)
  local raw = redis.call("HGETALL", key)
  if #raw == 0 then return nil end
  local a = {}
  for i = 1, #raw, 2 do a[raw[i]] = raw[i + 1] end
  -- The text of each number as stored, and the number it held (nil when absent or not a number),
  -- so save_account writes only the fields that changed and num_text formats only those.
  a.stored, a.loaded = {}, {}
  for _, f in ipairs(NUMERIC) do
    local text = a[f]
    local v = tonumber(text or "")
    a.stored[f], a.loaded[f], a[f] = text, v, v or 0
  end
  -- The JSON fields are kept as loaded and encoded again only when changed (the *_dirty flags):
  -- encoding is most of a script's cost, and most events change none of them.
  a.raw = { packs = a.packs or "[]", alerts = a.alerts or "{}", thresholds = a.thresholds or "[]" }
  a.packs = cjson.decode(a.raw.packs)
  a.alerts = cjson.decode(a.raw.alerts)
  a.thresholds = cjson.decode(a.raw.thresholds)
  a.alert_dismissed = a.alert_dismissed or ""
  a.sub_id = a.sub_id or ""
  a.changed = false
  a.deadline_loaded = a.next_deadline or ""
  return a
end

-- Credits and ms are whole numbers below 2^53: "%d" prints them exactly, and without the
-- floating-point printing that "%.0f" costs (it was ~8% of Redis time in the batch script).
local function fmt(n) return string.format("%d", n) end

-- A numeric field as text: the text it was loaded from while it holds the same number (most of an
-- account's fields do not move in a batch, and save_account and account_view both print them).
local function num_text(a, f)
  local v = a[f]
  local loaded = a.loaded
  if loaded and loaded[f] == v then return a.stored[f] end
  return fmt(v)
end

local function save_account(key, a)
  local args = { "plan", a.plan, "sub_id", a.sub_id, "alert_dismissed", a.alert_dismissed,
    "next_deadline", a.next_deadline or "" }
  local stored = a.stored or {}
  for _, f in ipairs(NUMERIC) do
    local text = num_text(a, f)
    if text ~= stored[f] then
      args[#args + 1] = f
      args[#args + 1] = text
    end
  end
  local raw = a.raw or {}
  if a.packs_dirty or not raw.packs then
    args[#args + 1] = "packs"
    args[#args + 1] = (#a.packs == 0) and "[]" or cjson.encode(a.packs)
  end
  if a.alerts_dirty or not raw.alerts then
    args[#args + 1] = "alerts"
    args[#args + 1] = next(a.alerts) == nil and "{}" or cjson.encode(a.alerts)
  end
  if a.thresholds_dirty or not raw.thresholds then
    args[#args + 1] = "thresholds"
    args[#args + 1] = cjson.encode(a.thresholds)
  end
  redis.call("HSET", key, unpack(args))
end

-- Σ bucket remainders; holds do not reduce them.
local function total_remaining(a)
  local sum = a.sub_rem
  for _, p in ipairs(a.packs) do sum = sum + p.rem end
  return sum
end

local function available(a)
  local v = total_remaining(a) - a.held
  if v < 0 then return 0 end
  return v
end

-- Takes up to n credits from the buckets, subscription first (it expires), then packs and
-- adjustments oldest first; spent ones leave the list. Returns what was taken.
local function draw(a, n)
  local taken = 0
  if n <= 0 then return 0 end
  local from_sub = math.min(a.sub_rem, n)
  a.sub_rem = a.sub_rem - from_sub
  taken = from_sub
  local spent = false
  for _, p in ipairs(a.packs) do
    local want = n - taken
    if want > 0 then
      local t = math.min(p.rem, want)
      p.rem = p.rem - t
      taken = taken + t
    end
    if p.rem <= 0 then spent = true end
  end
  if spent or taken > from_sub then a.packs_dirty = true end
  -- A new list only when a bucket is spent: a charge that leaves every bucket some credits (nearly
  -- all of them) allocates none.
  if spent then
    local kept = {}
    for _, p in ipairs(a.packs) do
      if p.rem > 0 then kept[#kept + 1] = p end
    end
    a.packs = kept
  end
  a.changed = true
  return taken
end

-- Credits granted repay overdraft first; returns what is left for the new bucket.
local function repay_overdraft(a, credits)
  local repay = math.min(a.overdraft, credits)
  a.overdraft = a.overdraft - repay
  return credits - repay, repay
end
