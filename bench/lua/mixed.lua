-- A fixed mix of requests, each tagged with X-Bench-Kind so the probed server can tell
-- which ones should never touch the pool. Each thread stops after LIMIT responses
-- (TOKENS, EMAILS, PASSWORD, LIMIT are prepended). Status counts are reported per code.
local pattern = {
  "me", "health", "me", "me", "bad_token", "me", "health", "me", "unknown", "me",
  "me", "health", "me", "ready", "me", "health", "me", "me", "bad_token", "me",
  "me", "health", "me", "me", "unknown", "me", "health", "me", "me", "health",
  "me", "health", "me", "me", "bad_token", "me", "health", "me", "ready", "me",
  "me", "health", "me", "me", "unknown", "me", "health", "me", "me", "health",
  "me", "health", "me", "me", "bad_token", "me", "health", "me", "me", "me",
  "me", "health", "me", "me", "unknown", "me", "health", "me", "me", "health",
  "me", "health", "me", "me", "bad_token", "me", "health", "me", "me", "me",
  "me", "health", "me", "me", "unknown", "me", "health", "me", "me", "health",
  "me", "health", "me", "me", "bad_token", "me", "health", "me", "me", "login",
}
local i = 0
local seen = 0
statuses = {}
local json = {["Content-Type"] = "application/json"}

request = function()
  i = i + 1
  local kind = pattern[(i - 1) % #pattern + 1]
  local token = TOKENS[(i % #TOKENS) + 1]
  if kind == "me" then
    return wrk.format("GET", "/api/v1/users/me",
      {["Authorization"] = "Bearer " .. token, ["X-Bench-Kind"] = "db"})
  elseif kind == "health" then
    return wrk.format("GET", "/health", {["X-Bench-Kind"] = "db-free"})
  elseif kind == "bad_token" then
    return wrk.format("GET", "/api/v1/users/me",
      {["Authorization"] = "Bearer not-a-jwt", ["X-Bench-Kind"] = "db-free"})
  elseif kind == "unknown" then
    return wrk.format("GET", "/api/v1/nothing-here", {["X-Bench-Kind"] = "db-free"})
  elseif kind == "ready" then
    return wrk.format("GET", "/ready", {["X-Bench-Kind"] = "db"})
  else
    local body = string.format('{"email":"%s","password":"%s"}', EMAILS[(i % #EMAILS) + 1], PASSWORD)
    json["X-Bench-Kind"] = "db"
    return wrk.format("POST", "/api/v1/auth/login", json, body)
  end
end

response = function(status, headers, body)
  seen = seen + 1
  statuses[status] = (statuses[status] or 0) + 1
  if seen >= LIMIT then
    wrk.thread:stop()
  end
end

local threads = {}
setup = function(thread)
  table.insert(threads, thread)
end

report_extra = function()
  local totals = {}
  for _, thread in ipairs(threads) do
    for code, count in pairs(thread:get("statuses")) do
      totals[code] = (totals[code] or 0) + count
    end
  end
  local parts = {}
  for code, count in pairs(totals) do
    table.insert(parts, string.format('"%d":%d', code, count))
  end
  return '"statuses":{' .. table.concat(parts, ",") .. '},'
end
