-- wrk script: POST /v1/events batches of 100 click events by random users.
-- Events/s = requests/s × 100.
-- Usage: wrk -t2 -c20 -d20s --latency -s scripts/wrk-events.lua http://127.0.0.1:8080
math.randomseed(os.time())
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  local evs = {}
  local now = os.time()
  for i = 1, 100 do
    evs[i] = string.format('{"user_id":"load-%d","item_id":%d,"type":"click","value":1,"ts":%d}',
      math.random(1, 5000), math.random(1, 9000), now)
  end
  return wrk.format("POST", "/v1/events", nil, '{"events":[' .. table.concat(evs, ",") .. ']}')
end
