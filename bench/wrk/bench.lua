-- One wrk script for every workload, configured by its arguments:
--   wrk ... -s bench/wrk/bench.lua <url> -- <method> <depth> <body-bytes> [Name: value]...
-- depth > 1 pipelines that many requests per write (wrk counts the
-- responses and sends the next batch when all have arrived).
-- At the end it prints one JSON line: requests, duration, latency, errors.

init = function(args)
  local method = args[1] or "GET"
  local depth = tonumber(args[2] or "1")
  local size = tonumber(args[3] or "0")
  wrk.method = method
  if size > 0 then
    wrk.body = string.rep("x", size)
    wrk.headers["Content-Type"] = "application/octet-stream"
  end
  for i = 4, #args do
    local name, value = string.match(args[i], "^([^:]+):%s*(.*)$")
    if name then wrk.headers[name] = value end
  end
  if depth > 1 then
    local batch = {}
    for i = 1, depth do batch[i] = wrk.format() end
    local all = table.concat(batch)
    -- Defining request() makes wrk pipeline: it counts the requests in it.
    request = function() return all end
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\nBENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
