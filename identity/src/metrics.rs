//! Prometheus counters and a latency histogram, kept in atomics so the hot
//! paths pay a few nanoseconds. Rendered in the text exposition format.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

#[derive(Default)]
pub struct Metrics {
    /// (route, status) -> count
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    latency_buckets: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_micros: AtomicU64,
    tokens_authorization_code: AtomicU64,
    tokens_refresh_token: AtomicU64,
    tokens_client_credentials: AtomicU64,
    logins_failed: AtomicU64,
    logins_succeeded: AtomicU64,
}

impl Metrics {
    pub fn request(&self, route: &str, status: u16, seconds: f64) {
        {
            let mut map = self.requests.lock().unwrap_or_else(|p| p.into_inner());
            *map.entry((route.to_string(), status)).or_default() += 1;
        }
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                self.latency_buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_micros
            .fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
    }

    pub fn token_issued(&self, grant: &str) {
        let counter = match grant {
            "authorization_code" => &self.tokens_authorization_code,
            "refresh_token" => &self.tokens_refresh_token,
            _ => &self.tokens_client_credentials,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn login(&self, succeeded: bool) {
        if succeeded {
            self.logins_succeeded.fetch_add(1, Ordering::Relaxed);
        } else {
            self.logins_failed.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The in-process store's gauges (embedded mode only).
    pub fn render_memory_store(entries: usize, evicted: u64) -> String {
        format!(
            "# HELP tessera_memory_store_entries Values held by the in-process store.\n\
             # TYPE tessera_memory_store_entries gauge\n\
             tessera_memory_store_entries {entries}\n\
             # HELP tessera_memory_store_evictions_total Pending requests and ceremonies evicted because the store was full.\n\
             # TYPE tessera_memory_store_evictions_total counter\n\
             tessera_memory_store_evictions_total {evicted}\n"
        )
    }

    pub fn render(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        out.push_str("# HELP tessera_http_requests_total HTTP requests by route and status.\n");
        out.push_str("# TYPE tessera_http_requests_total counter\n");
        for ((route, status), n) in self
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "tessera_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        out.push_str("# HELP tessera_http_request_duration_seconds Request latency.\n");
        out.push_str("# TYPE tessera_http_request_duration_seconds histogram\n");
        for (i, bound) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "tessera_http_request_duration_seconds_bucket{{le=\"{bound}\"}} {}",
                self.latency_buckets[i].load(Ordering::Relaxed)
            );
        }
        let count = self.latency_count.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "tessera_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            out,
            "tessera_http_request_duration_seconds_sum {}",
            self.latency_sum_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "tessera_http_request_duration_seconds_count {count}");
        out.push_str("# HELP tessera_tokens_issued_total Token responses by grant type.\n");
        out.push_str("# TYPE tessera_tokens_issued_total counter\n");
        for (grant, counter) in [
            ("authorization_code", &self.tokens_authorization_code),
            ("refresh_token", &self.tokens_refresh_token),
            ("client_credentials", &self.tokens_client_credentials),
        ] {
            let _ = writeln!(
                out,
                "tessera_tokens_issued_total{{grant_type=\"{grant}\"}} {}",
                counter.load(Ordering::Relaxed)
            );
        }
        out.push_str("# HELP tessera_logins_total Password logins by outcome.\n");
        out.push_str("# TYPE tessera_logins_total counter\n");
        let _ = writeln!(
            out,
            "tessera_logins_total{{outcome=\"failed\"}} {}",
            self.logins_failed.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "tessera_logins_total{{outcome=\"succeeded\"}} {}",
            self.logins_succeeded.load(Ordering::Relaxed)
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histogram() {
        let m = Metrics::default();
        m.request("/token", 200, 0.002);
        m.token_issued("client_credentials");
        m.login(false);
        let text = m.render();
        assert!(text.contains("tessera_http_requests_total{route=\"/token\",status=\"200\"} 1"));
        assert!(text.contains("tessera_http_request_duration_seconds_bucket{le=\"0.0025\"} 1"));
        assert!(text.contains("tessera_http_request_duration_seconds_bucket{le=\"0.001\"} 0"));
        assert!(text.contains("tessera_tokens_issued_total{grant_type=\"client_credentials\"} 1"));
        assert!(text.contains("tessera_logins_total{outcome=\"failed\"} 1"));
    }
}
