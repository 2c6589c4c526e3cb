--[[
  Idempotency records and step states (CONTRACT §2), compact: fields of one hash per account and
  generation, "<prefix>ids:<g>" with g = floor(now / IDEM_GEN_MS), instead of a key per eventId and
  per step (docs/ledger.md "Idempotency records"; docs/decisions.md). A key per record cost its own
  keyspace and expires entries and object headers: 424 B per event against 141-161 B as fields.

    e<13 of SHA-1 of the eventId>    -> the event's record (idem_record_text)
    s<13 of SHA-1 of sid/stepId>     -> the step's state: h(eld), d(enied), c(ompleted), f(ailed)
  (SHA-1s in base64url, built by the caller: fingerprint.ts eventField, stepField; 14 characters
  each, so each fits one of Redis's 16-byte string allocations whatever the ids.) The caller passes
  the event's field whole, 28 characters ("e" and the SHA-1's 27): the name the layout before kept
  its records under (until 2026-12-04, commit 30dc04c), read as well in the generations that may hold it
  (account field "iy", idem_span); the record is stored under its first 14 (idem_efield).

  A script writes its account's fields with one HSET into the current generation and makes the
  hash expire at the generation's end + the longest retention it wrote + IDEM_SLACK_MS: a whole
  generation goes at once, never before the retention after its last write. IDEM_GEN_MS is a
  constant, not derived from configuration, so generation boundaries never move.
  Lookups go newest generation first (one HMGET fetches the record and the step state) back to the
  one holding now - retention - slack, and no further back than the account's first write of this
  layout less the slack (a clock up to that far behind still finds what it wrote).

  The account hash's field "ix" (loaded with the account) says where the account stands: absent,
  it never wrote this layout; "<ms>", its first write (it may still have keys of the layout before:
  "<prefix>evt:<eventId>" JSON records and "<prefix>st:<sid>/<step>" states, read only, until they
  have expired: ms + retention; apply-events-4a builds their names from the prefix, only then); "n<ms>", created with this layout (none).
  Its field "ig" is the newest generation the account wrote: lookups start there when the clock
  is behind it, so records written while the clock ran ahead are still found once it is back.
  Its field "iy" is the newest generation that may hold records under the 28-character name of the
  layout before (written at the account's first write of the 14-character names: the generation of
  its clock + the slack, or "ig" if later; "-1" for an account that holds none); absent, any may.
]]
local IDEM_GEN_MS = 15 * 86400000
-- Covers the few minutes an event's occurredAt may be ahead (its retention is that much longer).
local IDEM_SLACK_MS = 3600000

local IDEM_HASHTABLE = "this generation is kept as a hash table: one value over 64 bytes (lib/idem.lua)"

-- The name a record is stored under: the first 14 characters of the caller's event field (78 bits
-- of SHA-1: docs/decisions.md), one 16-byte allocation where the whole 28 took 32.
local function idem_efield(efield) return string.sub(efield, 1, 14) end

local function idem_key(ctx, g)
  local keys = ctx.idem_keys
  if not keys then
    keys = {}
    ctx.idem_keys = keys
  end
  local k = keys[g]
  if not k then
    k = ctx.prefix .. "ids:" .. string.format("%d", g)
    keys[g] = k
  end
  return k
end

-- A step state is kept as its first letter.
local IDEM_STEP_WORDS = { h = "held", d = "denied", c = "completed", f = "failed" }

-- The generations that may hold a record kept `keep_ms` (newest, oldest; the current one always),
-- whether keys of the layout before may still exist, and the newest generation that may hold
-- records under their 28-character name ("iy").
local function idem_span(ctx, a, keep_ms)
  local g = math.floor(ctx.now / IDEM_GEN_MS)
  -- A clock that ran ahead into a later generation and came back (a failover to a replica whose
  -- clock is ahead, then back) left records there: the lookup starts at the newest one written.
  local top = math.max(g, tonumber(a.ig) or g)
  local long = tonumber(a.iy) or math.huge
  local ix = a.ix
  if ix == nil then
    -- A read that could not read the account (read_event_account): every generation of the window.
    if a.unread then return top, math.floor((ctx.now - keep_ms - IDEM_SLACK_MS) / IDEM_GEN_MS), true, long end
    -- It holds no generation yet, but the current one is read all the same: idem_flush writes it
    -- after the account's state, and a key of the wrong type must fail the script before that.
    return top, g, true, -1
  end
  local fresh = string.byte(ix, 1) == 110 -- "n"
  local first = tonumber(fresh and string.sub(ix, 2) or ix) or 0
  -- The first write bounds the lookup less the slack: a clock that steps back (a failover to a
  -- replica a few seconds behind) writes below it, into the generation before it at a boundary.
  -- The current generation is read in any case (written by idem_flush: read first, as above).
  local lo = math.max(math.floor((ctx.now - keep_ms - IDEM_SLACK_MS) / IDEM_GEN_MS),
    math.floor((first - IDEM_SLACK_MS) / IDEM_GEN_MS))
  return top, math.min(lo, g), (not fresh) and ctx.now < first + keep_ms + IDEM_SLACK_MS, long
end

-- What the reads outside apply (read-event-2, mark-webhooks-2) know of the account: its "ix", or,
-- when its hash cannot be read (not a hash: a fault), that nothing bounds the lookup.
local function read_event_account(key)
  local r = redis.pcall("HMGET", key, "ix", "ig", "iy")
  if type(r) ~= "table" or r.err then return { unread = true } end
  return { ix = r[1] or nil, ig = r[2] or nil, iy = r[3] or nil }
end

-- A string key of the layout before, read with the account hash (MGET answers nil for a hash) so
-- that on a Redis Cluster node importing the slot one not moved yet fails the script instead of
-- reading as absent (idem_present says why; the same one call as a GET).
local function legacy_get(ctx, key)
  return redis.call("MGET", ctx.prefix .. "acct", key)[2]
end

-- A step's state in the layouts before (each read only while it can exist: idem_span).
local function legacy_step_state(ctx, ev)
  -- Three layouts back: one key per step, one hash per session, one hash per step.
  return legacy_get(ctx, ctx.prefix .. "st:" .. ev.sid .. "/" .. ev.step)
    or redis.call("HGET", ctx.prefix .. "steps:" .. ev.sid, ev.step)
    or redis.call("HGET", ctx.prefix .. "step:" .. ev.sid .. "/" .. ev.step, "state") or nil
end

-- Fails the script unless the generations g down to lo are where the account is (its hash, a key
-- every caller declares, is here). On a Redis Cluster node importing the account's slot, a call
-- sent after ASKING runs once its declared keys have moved, and a generation not moved yet reads
-- as empty: an event applied before would be applied again. A command naming several keys of a
-- slot being imported, some missing, fails instead (TRYAGAIN's rule), so this EXISTS fails the
-- script, before any write, until the slot has moved; anywhere else it is one call per account and
-- script (docs/scale-out.md "Slot migration"; test/cluster/slot-migration.test.ts).
local function idem_present(ctx, g, lo)
  local keys = { ctx.prefix .. "acct" }
  for gi = g, lo, -1 do keys[#keys + 1] = idem_key(ctx, gi) end
  redis.call("EXISTS", unpack(keys))
end

-- The event's stored record (compact text, or the JSON of the layout before) and, when it has none,
-- its step's stored state; with a compact record, its generation's key and its field there.
-- `want_step` false: the record alone (reads outside apply).
local function idem_lookup(ctx, a, ev, want_step)
  -- The span depends on the clock, the retention and the account's "ix"/"ig"/"iy", which only
  -- idem_flush moves, after every lookup of the script: a batch's events (one retention, nearly
  -- always) reuse it.
  local g, lo, legacy, long
  local span = ctx.idem_span
  if span and span[1] == ev.idem_ms then
    g, lo, legacy, long = span[2], span[3], span[4], span[5]
  else
    g, lo, legacy, long = idem_span(ctx, a, ev.idem_ms)
    ctx.idem_span = { ev.idem_ms, g, lo, legacy, long }
    idem_present(ctx, g, lo)
  end
  local efield = idem_efield(ev.efield)
  local step
  for gi = g, lo, -1 do
    local key = idem_key(ctx, gi)
    -- A generation that may hold the 28-character name: both names in the same call.
    if gi <= long then
      local r = want_step and redis.call("HMGET", key, efield, ev.efield, ev.sfield)
        or redis.call("HMGET", key, efield, ev.efield)
      if r[1] then return r[1], nil, key, efield end
      if r[2] then return r[2], nil, key, ev.efield end
      if want_step and not step and r[3] then step = IDEM_STEP_WORDS[r[3]] end
    elseif want_step then
      local r = redis.call("HMGET", key, efield, ev.sfield)
      if r[1] then return r[1], nil, key, efield end
      if not step and r[2] then step = IDEM_STEP_WORDS[r[2]] end
    else
      local r = redis.call("HGET", key, efield)
      if r then return r, nil, key, efield end
    end
  end
  if legacy then
    -- Declared by the reads outside apply (read-event-2, mark-webhooks-2); built by apply-events-4a.
    local old = legacy_get(ctx, ev.evt_key or (ctx.prefix .. "evt:" .. ev.id))
    if old then return old, nil, nil end
    if want_step and not step then step = legacy_step_state(ctx, ev) end
  end
  return nil, step, nil
end

--- @include "lib/idem-record"

-- Writes the account's records and step states of this script: one HSET, then the generation's expiry.
local function idem_flush(ctx, a)
  local args, keep = {}, 0
  for _, r in ipairs(ctx.idem_recs or {}) do
    args[#args + 1] = idem_efield(r.efield)
    args[#args + 1] = idem_record_text(r)
    if r.keep > keep then keep = r.keep end
  end
  for field, s in pairs(ctx.steps or {}) do
    args[#args + 1] = field
    args[#args + 1] = string.sub(s.state, 1, 1)
    if s.keep_ms > keep then keep = s.keep_ms end
  end
  ctx.idem_recs, ctx.steps = nil, nil
  if #args == 0 then return end
  local g = math.floor(ctx.now / IDEM_GEN_MS)
  local key = idem_key(ctx, g)
  redis.call("HSET", key, unpack(args))
  -- Relative to this script's clock (a test's may be virtual); NX sets a new generation's expiry,
  -- GT lengthens it when the retention grew. The account's own generation ("ig", written by an
  -- earlier script of it) has its expiry already: one call, not two, on nearly every script.
  local ttl = (g + 1) * IDEM_GEN_MS + keep + IDEM_SLACK_MS - ctx.now
  if tonumber(a.ig) == g then
    redis.call("PEXPIRE", key, ttl, "GT")
  elseif redis.call("PEXPIRE", key, ttl, "NX") == 0 then
    redis.call("PEXPIRE", key, ttl, "GT")
  else
    -- A new generation: one value longer than hash-max-listpack-value (64 by default) makes Redis
    -- keep the hash as a hash table from now on. As a listpack (up to 512 fields) it took a third
    -- less memory, but every lookup of a new eventId scanned it whole: 7-40 µs at 300-500 fields
    -- against under 1 µs (docs/decisions.md).
    redis.call("HSET", key, "~", IDEM_HASHTABLE)
  end
  local marks = {}
  if a.iy == nil then
    -- The first write of the 14-character names: the generations the account wrote before (none
    -- when it has no "ix") are the ones that may hold the 28-character names. A clock up to the
    -- slack behind the last write before still finds it; one that ran ahead left it in "ig".
    a.iy = a.ix == nil and "-1"
      or string.format("%d", math.max(math.floor((ctx.now + IDEM_SLACK_MS) / IDEM_GEN_MS), tonumber(a.ig) or -1))
    marks[1], marks[2] = "iy", a.iy
  end
  if a.ix == nil then
    a.ix = string.format("%d", ctx.now)
    marks[#marks + 1], marks[#marks + 2] = "ix", a.ix
  end
  if #marks > 0 then redis.call("HSET", ctx.acct, unpack(marks)) end
  -- "ig": the newest generation written (idem_span), moved once a generation per account.
  if g > (tonumber(a.ig) or -math.huge) then
    a.ig = string.format("%d", g)
    redis.call("HSET", ctx.acct, "ig", a.ig)
  end
end
