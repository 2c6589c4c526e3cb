--[[
  What a change that is not a stage event raised (an ops grant's alert, lib/grants.lua; a budget
  set's alert and budget_reached, set-budget-5.lua), kept in that change's own idempotency record
  until its webhooks are queued (mark-webhooks-2.lua appends ";q"), so that the caller's retry
  raises them again exactly as first raised (docs/webhooks.md "The gap"; owed-webhooks.ts reads it).
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
