--[[
  The text of an idempotency record (lib/idem): how an event was answered, written compactly and
  read back in every form the ledger has written (event-record.ts reads the same forms in TypeScript).
]]
-- Record codes: status, decision and deny reason in one character.
local IDEM_CODES = {
  a = { s = "applied" },
  g = { s = "applied", d = "granted" },
  i = { s = "denied", d = "denied", dr = "insufficient_credits" },
  b = { s = "denied", d = "denied", dr = "session_budget" },
  x = { s = "ignored" },
}

--[[
  A record's text: "<code><amount>,<av>,<su>,<raised>,<fingerprint>". amount is what was held
  (code g) or charged (the others); av/su the account's available credits and the session's used
  credits right after the event. raised is empty, or "<t>;<rq>;<al>;<th>;<br>" for an event that
  raised a denial, an alert or its session's budget_reached (lib/apply remember_raised), with ";q"
  appended once its webhooks are queued (mark-webhooks-2). The fingerprint is the caller's
  (fingerprint.ts compactFingerprint): "<type><sid hash 8><step hash 8>,<action>,<scenes>,<seconds>,<model>",
  last because a model is free text.
  A record that raised nothing (nearly all) is written shorter, its code's letter in upper case:
  "<CODE><fingerprint's first 17><amount>,<av>,<su><the fingerprint's rest>" (the numbers in
  base64url digits: 10^8 credits in 5 characters, 30 in 1), the rest
  without its trailing empty fields when it has no model ("…,b" for "…,b,,,"): most records fall
  to 30 characters or fewer, one 32-byte allocation instead of 48 (jemalloc here has no 40).
]]
local IDEM_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
local IDEM_UPPER = { a = "A", g = "G", i = "I", b = "B", x = "X" }

-- A base64url digit's byte: A-Z a-z 0-9 - _ (IDEM_B64).
local function idem_b64_byte(d)
  if d < 26 then return 65 + d elseif d < 52 then return 71 + d elseif d < 62 then return d - 4 end
  return d == 62 and 45 or 95
end

-- A whole number >= 0 in base64url digits, most significant first (event-record.ts fromBase64).
-- Built from bytes, up to 5 digits (10^9) in one string.char: a string per digit made the event
-- script 6 % slower per event.
local function idem_b64(n)
  local b = idem_b64_byte
  if n < 64 then return string.char(b(n > 0 and n or 0)) end
  local d0 = n % 64
  n = (n - d0) / 64
  if n < 64 then return string.char(b(n), b(d0)) end
  local d1 = n % 64
  n = (n - d1) / 64
  if n < 64 then return string.char(b(n), b(d1), b(d0)) end
  local d2 = n % 64
  n = (n - d2) / 64
  if n < 64 then return string.char(b(n), b(d2), b(d1), b(d0)) end
  local d3 = n % 64
  n = (n - d3) / 64
  if n < 64 then return string.char(b(n), b(d3), b(d2), b(d1), b(d0)) end
  return idem_b64(n) .. string.char(b(d3), b(d2), b(d1), b(d0))
end

local function idem_unb64(s)
  local n = 0
  for i = 1, #s do n = n * 64 + string.find(IDEM_B64, string.sub(s, i, i), 1, true) - 1 end
  return n
end

-- A fingerprint's rest (after its first 17 characters) with the trailing empty fields a short
-- record leaves out put back: fewer than 4 commas means they were (a model, the only field that
-- may hold commas, is then empty).
local function idem_fp_tail(tail)
  local _, commas = string.gsub(tail, ",", ",")
  if commas < 4 then return tail .. string.rep(",", 4 - commas) end
  return tail
end

local function idem_record_text(r)
  local fp = r.fp
  if r.raised == nil or r.raised == "" then
    local tail = string.sub(fp, 18)
    if string.byte(tail, -1) == 44 and string.find(tail, "^,[^,]*,[^,]*,[^,]*,$") then tail = string.gsub(tail, ",+$", "") end
    return IDEM_UPPER[r.code] .. string.sub(fp, 1, 17) .. idem_b64(r.amt) .. "," .. idem_b64(r.av or 0) .. ","
      .. idem_b64(r.su or 0) .. tail
  end
  return string.format("%s%d,%d,%d,%s,%s", r.code, r.amt, r.av or 0, r.su or 0, r.raised, fp)
end

-- A stored record as a table: { s, d, dr, fp (compact) or f (the layout before's array), t, rq, av,
-- al, th, br, wq }; nil when unreadable.
local function idem_record_parse(text)
  local first = string.byte(text, 1)
  if first == 123 then return cjson.decode(text) end -- "{": the layout before
  if first and first >= 65 and first <= 90 then
    -- A short record (idem_record_text): it raised nothing.
    local amt, av, su, tail = string.match(text, "^([%w_%-]+),([%w_%-]+),([%w_%-]+)(.*)$", 19)
    local c = IDEM_CODES[string.lower(string.sub(text, 1, 1))]
    if not (c and amt) then return nil end
    local p = { s = c.s, d = c.d, dr = c.dr, fp = string.sub(text, 2, 18) .. idem_fp_tail(tail), av = idem_unb64(av),
      su = idem_unb64(su) }
    if c.d == "granted" then p.h, p.c = idem_unb64(amt), 0 else p.c, p.h = idem_unb64(amt), 0 end
    return p
  end
  local code, amt, av, su, raised, fp = string.match(text, "^(%a)(%d+),(%d+),(%d+),([^,]*),(.*)$")
  local c = code and IDEM_CODES[code]
  if not c then return nil end
  local p = { s = c.s, d = c.d, dr = c.dr, fp = fp, av = tonumber(av), su = tonumber(su) }
  if code == "g" then p.h, p.c = tonumber(amt), 0 else p.c, p.h = tonumber(amt), 0 end
  if raised ~= "" then
    local t, rq, al, th, br, q = string.match(raised, "^(%d+);(%d*);(%a*);(%d*);(%d*);?(q?)$")
    p.t = tonumber(t)
    p.rq = tonumber(rq)
    p.al = al ~= "" and al or nil
    p.th = tonumber(th)
    p.br = br == "1" and 1 or nil
    p.wq = q == "q" and 1 or nil
  end
  return p
end
