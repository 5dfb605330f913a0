-- GET on the URL given to wrk (/health), paced: each connection waits 20 ms between
-- requests, so the probe watches the event loop without taking a core from the logins.
delay = function()
  return 20
end
