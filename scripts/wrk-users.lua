-- wrk script: GET /v1/recommendations for a random MovieLens user (1..610).
-- Usage: wrk -t2 -c50 -d20s --latency -s scripts/wrk-users.lua http://127.0.0.1:8080
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/v1/recommendations?user_id=" .. math.random(1, 610) .. "&n=10")
end
