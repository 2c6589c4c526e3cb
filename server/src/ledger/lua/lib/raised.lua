--[[
  What a change that is not a stage event raised, kept until its webhooks are queued so that the
  caller's retry (or the next call that reads it) raises it again exactly as first raised
  (docs/webhooks.md "The gap"; owed-webhooks.ts reads it): an ops grant's alert in the grant's own
  record (lib/grants.lua; mark-webhooks-2.lua appends ";q"); the others (a budget set's alert and
  budget_reached, set-budget-5.lua; the account's time-due and threshold alerts) among a hash's
  pending raises below (mark-webhooks-2.lua removes the texts queued).
  The text: "<t ms>;<account seq after the change>;<alert level>;<threshold>;<available>;<br>"
  (br "1" when the budget was reached; the alert fields empty when no alert).
]]
local function raised_text(now, seq, alert, reached)
  return string.format("%d;%d;%s;%s;%s;%s", now, seq, alert and alert.level or "",
    alert and fmt(alert.threshold) or "", alert and fmt(alert.available) or "", reached and "1" or "")
end

-- The text when it is still owed (kept, not marked queued), else nil.
local function raised_owed(text)
  if not text or text == "" or string.sub(text, -2) == ";q" then return nil end
  return text
end

--[[
  What a hash that outlives one call (the account's: the sweeper's touch, an account PUT, the
  time-due work of a read, plan set or dismissal; a session's: a budget set) still owes: the
  raised texts not yet known to be queued, oldest first, in its field `wp`, joined by "|" (a text
  holds none), at most RAISED_MAX. Each text keys its own delivery (its seq and level), and no
  alert supersedes another (CONTRACT §7: each crossing fires once), so a newer raise is added, not
  written over an older one still owed. mark-webhooks-2.lua removes exactly the texts queued.
  The layout before (releases up to 2026-12-05) kept one text in `wr` (";q" once queued), which a
  newer raise replaced: it is still read, and dropped once its text is moved into `wp`.
]]
local RAISED_MAX = 16

-- The texts a hash's fields (`wp`, and `wr` of the layout before) still owe, oldest first; nil when none.
local function raised_pending(fields)
  local list, seen = {}, {}
  local legacy = raised_owed(fields.wr)
  if legacy then
    list[1] = legacy
    seen[legacy] = true
  end
  for text in string.gmatch(fields.wp or "", "[^|]+") do
    if not seen[text] then
      list[#list + 1] = text
      seen[text] = true
    end
  end
  if #list == 0 then return nil end
  return list
end

--[[
  Adds `text`, raised by this call, to the hash's pending raises (`pending`: raised_pending as read
  before the call's writes) and writes them in the new layout. At RAISED_MAX the newest takes the
  last place: the oldest owed are kept, and the newest (the state a receiver acts on); the one it
  replaces was answered to this very call as owed, so it is lost only if this call's queueing
  fails too (a queue down for RAISED_MAX crossings).
]]
local function raised_keep(key, pending, text)
  local list = {}
  for i, t in ipairs(pending or {}) do
    if t == text then return end -- the same text: the same delivery, already kept
    if i < RAISED_MAX then list[i] = t end
  end
  list[#list + 1] = text
  redis.call("HSET", key, "wp", table.concat(list, "|"))
  redis.call("HDEL", key, "wr")
end
