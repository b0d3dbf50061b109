-- wrk script of the end-to-end bench: POST the typical NUGU Private Play request, keep-alive.
-- The body file is given by NUGU_BENCH_BODY (scripts/bench sets it).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "token bench-api-key"
local file = assert(io.open(os.getenv("NUGU_BENCH_BODY"), "r"))
wrk.body = file:read("*a")
file:close()

-- Machine-readable summary. errors.status counts responses with status >= 400, so a run the
-- server refused (wrong key, wrong path) shows up instead of passing for a fast one.
done = function(summary, latency, requests)
  io.write(string.format("REQUESTS %d\nDURATIONUS %d\n", summary.requests, summary.duration))
  io.write(string.format("P50US %d\nP99US %d\n", latency:percentile(50), latency:percentile(99)))
  io.write(string.format("STATUSERRORS %d\nSOCKETERRORS %d\n", summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
