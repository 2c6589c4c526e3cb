--[[
  Low-balance alerts, decided inside the atomic operation so a crossing fires exactly once
  however many nodes and retries there are. Per level a state: "armed" (available above its
  threshold), "fired" (crossed; the alert is showing), "idle" (at or below without a crossing,
  e.g. a new account at 0). A change that moves available from above to at-or-below fires; one
  change crossing several levels raises one alert, for the most severe. Rising above re-arms.
  Thresholds are computed after the change: percentages of used + held + available, rounded down.
]]
local SEVERITY = { low = 1, critical = 2, exhausted = 3 }

local function resolved_thresholds(a)
  local total = a.used + a.held + available(a)
  local list = {}
  for _, t in ipairs(a.thresholds) do
    local credits = t.credits
    if credits == nil then credits = math.floor(total * t.percent / 100) end
    list[#list + 1] = { level = t.level, credits = credits }
  end
  return list
end

-- The alert showing now: the most severe fired level, with its threshold in credits.
local function current_alert(a)
  local best = nil
  for _, t in ipairs(resolved_thresholds(a)) do
    if a.alerts[t.level] == "fired" and (best == nil or SEVERITY[t.level] > SEVERITY[best.level]) then
      best = t
    end
  end
  return best
end

-- Updates the level states; returns the alert to raise ({ level, threshold }) or nil. The states
-- only move when available or the total moves, so an evaluation that would see the same two
-- numbers as the previous one in this script is skipped: a batch evaluates after every event.
local function evaluate_alerts(a)
  local avail = available(a)
  local total = a.used + a.held + avail
  if a.evaluated_av == avail and a.evaluated_total == total then return nil end
  a.evaluated_av, a.evaluated_total = avail, total
  local raised = nil
  for _, t in ipairs(a.thresholds) do
    local level, credits = t.level, t.credits
    if credits == nil then credits = math.floor(total * t.percent / 100) end
    local state = a.alerts[level] or "idle"
    if avail > credits then
      if state ~= "armed" then a.alerts[level] = "armed"; a.alerts_dirty = true; a.changed = true end
    elseif state == "armed" then
      a.alerts[level] = "fired"
      a.alerts_dirty = true
      a.changed = true
      if raised == nil or SEVERITY[level] > SEVERITY[raised.level] then
        raised = { level = level, threshold = credits, available = avail }
      end
    end
  end
  if raised then a.alert_dismissed = "" end
  return raised
end
