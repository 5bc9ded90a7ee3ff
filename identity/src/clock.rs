//! The one place that reads the wall clock. Handlers read it once per
//! request and pass `now` (unix seconds) down, so domain code is testable
//! with fixed times.

/// Seconds since the unix epoch.
pub type UnixTime = i64;

/// Reads the wall clock. Everything else receives time as a parameter.
#[allow(clippy::disallowed_methods)]
pub fn now() -> UnixTime {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
