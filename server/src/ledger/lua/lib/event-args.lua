--[[
  What apply-events-4a needs to read an event's arguments that no call changes: the event's kind
  by its fingerprint's first letter, and a value on the account's plan. Library-level constants
  under Redis Functions (lua-assembly.ts): made once per FUNCTION LOAD, not once per call.
]]
-- The event's kind by its fingerprint's first letter (fingerprint.ts TYPE_CODES).
local EVENT_KINDS = { [115] = "started", [112] = "progress", [99] = "completed", [102] = "failed" }

-- The value on the account's plan (p: 1 free, 2 plus, 3 pro) of "<n>" or "<free>,<plus>,<pro>".
local function on_plan(arg, p)
  if not string.find(arg, ",", 1, true) then return arg end
  local free, plus, pro = string.match(arg, "^([^,]*),([^,]*),(.*)$")
  return (p == 2 and plus) or (p == 3 and pro) or free
end
