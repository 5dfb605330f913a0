-- POST /api/v1/auth/login as the seeded users, in turn (EMAILS and PASSWORD are prepended).
local i = 0
request = function()
  i = i + 1
  local body = string.format('{"email":"%s","password":"%s"}', EMAILS[(i % #EMAILS) + 1], PASSWORD)
  return wrk.format("POST", "/api/v1/auth/login", {["Content-Type"] = "application/json"}, body)
end
