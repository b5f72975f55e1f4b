-- wrk script of the serving bench: POST one JSON body, report latency percentiles as JSON.
-- Usage: wrk -t1 -cN -dD -s post.lua URL -- BODY_FILE [BEARER_TOKEN]

function init(args)
  local handle = assert(io.open(args[1], "rb"))
  wrk.body = handle:read("*a")
  handle:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  if args[2] ~= nil and args[2] ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. args[2]
  end
end

-- Times in microseconds; non2xx counts every answer that is not a success.
function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'MLOPS_BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, '
      .. '"p99_us": %d, "max_us": %d, "non2xx": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout))
end
