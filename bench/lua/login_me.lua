-- Sessions being born and used: one login in every LOGIN_EVERY requests; the rest are GET
-- /api/v1/users/me, round-robin over this thread's sessions: the seeded ones (TOKENS, logged
-- in before the run) and the newest ones its own logins opened, at most SESSIONS in all
-- (EMAILS, PASSWORD, TOKENS, LOGIN_EVERY and SESSIONS are prepended).
local i = 0
local sessions = {}
for n, token in ipairs(TOKENS) do
  sessions[n] = token
end
local newest = 0
local json = {["Content-Type"] = "application/json"}

request = function()
  i = i + 1
  if i % LOGIN_EVERY == 1 then
    local body = string.format('{"email":"%s","password":"%s"}', EMAILS[(i % #EMAILS) + 1], PASSWORD)
    return wrk.format("POST", "/api/v1/auth/login", json, body)
  end
  local token = sessions[(i % #sessions) + 1]
  return wrk.format("GET", "/api/v1/users/me", {["Authorization"] = "Bearer " .. token})
end

response = function(status, headers, body)
  local fresh = string.match(body, '"access_token":"([^"]+)"')
  if fresh then
    if #sessions < SESSIONS then
      table.insert(sessions, fresh)
    else
      newest = newest % SESSIONS + 1
      sessions[newest] = fresh  -- the oldest session gives way
    end
  end
end
