-- GET /api/v1/users/me, rotating over the seeded users' tokens (TOKENS is prepended).
local i = 0
request = function()
  i = i + 1
  local token = TOKENS[(i % #TOKENS) + 1]
  return wrk.format("GET", "/api/v1/users/me", {["Authorization"] = "Bearer " .. token})
end
