-- Shared by the wrk scripts: one machine-readable line that tests/bench/run.sh parses.
-- Latencies are in microseconds; status_errors counts answers that are not 2xx/3xx.
function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "BENCH requests=%d duration_us=%.0f p50_us=%.0f p99_us=%.0f status_errors=%d socket_errors=%d\n",
      summary.requests, summary.duration,
      latency:percentile(50), latency:percentile(99),
      e.status, e.connect + e.read + e.write + e.timeout))
end
