//! Login throttling in the ephemeral store, per account and per client IP.
//! After `max_failures` failures the key is locked for 30 s, doubling with
//! each further failure up to 15 minutes. A lock on one account never slows
//! a login to another; the per-IP limit is set high for shared NATs.

use crate::crypto::{b64, sha256};
use crate::store::{Ephemeral, StoreError};

const BASE_LOCK_SECS: i64 = 30;
const MAX_LOCK_SECS: i64 = 15 * 60;
/// Failures are counted over this window.
const FAILURE_WINDOW_SECS: i64 = 3600;

#[derive(Debug, Clone, Copy)]
pub struct ThrottleLimits {
    pub account_max_failures: i64,
    pub ip_max_failures: i64,
}

#[derive(Clone)]
pub struct LoginThrottle {
    store: Ephemeral,
    limits: ThrottleLimits,
}

/// Lock duration after `failures` failures with a threshold of `max`.
pub fn lock_secs(failures: i64, max: i64) -> Option<i64> {
    if failures < max {
        return None;
    }
    let doublings = (failures - max).min(16) as u32;
    Some((BASE_LOCK_SECS << doublings).min(MAX_LOCK_SECS))
}

impl LoginThrottle {
    pub fn new(store: Ephemeral, limits: ThrottleLimits) -> LoginThrottle {
        LoginThrottle { store, limits }
    }

    /// Keys are hashed so usernames (which may be emails) are not stored
    /// in the clear in Redis.
    fn subjects(login: &str, ip: &str) -> [(String, &'static str); 2] {
        let account = b64(&sha256(login.trim().to_ascii_lowercase().as_bytes()));
        [
            (format!("acct:{account}"), "acct"),
            (format!("ip:{ip}"), "ip"),
        ]
    }

    /// `Err(seconds)` while either the account or the IP is locked.
    pub async fn check(
        &self,
        login: &str,
        ip: &str,
        now: i64,
    ) -> Result<Result<(), i64>, StoreError> {
        let mut wait = 0;
        for (subject, _) in Self::subjects(login, ip) {
            if let Some(until) = self.store.get(&format!("throttle:lock:{subject}")).await? {
                let until: i64 = String::from_utf8_lossy(&until).parse().unwrap_or(0);
                wait = wait.max(until - now);
            }
        }
        Ok(if wait > 0 { Err(wait) } else { Ok(()) })
    }

    pub async fn record_failure(&self, login: &str, ip: &str, now: i64) -> Result<(), StoreError> {
        for (subject, kind) in Self::subjects(login, ip) {
            let max = if kind == "acct" {
                self.limits.account_max_failures
            } else {
                self.limits.ip_max_failures
            };
            let failures = self
                .store
                .incr(&format!("throttle:fail:{subject}"), FAILURE_WINDOW_SECS)
                .await?;
            if let Some(secs) = lock_secs(failures, max) {
                let until = (now + secs).to_string();
                self.store
                    .put(&format!("throttle:lock:{subject}"), until.as_bytes(), secs)
                    .await?;
            }
        }
        Ok(())
    }

    /// A successful login clears the account's failures (not the IP's).
    pub async fn record_success(&self, login: &str, ip: &str) -> Result<(), StoreError> {
        let [(account, _), _] = Self::subjects(login, ip);
        self.store
            .delete(&format!("throttle:fail:{account}"))
            .await?;
        self.store.delete(&format!("throttle:lock:{account}")).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_starts_at_the_threshold_and_doubles_to_a_cap() {
        assert_eq!(lock_secs(4, 5), None);
        assert_eq!(lock_secs(5, 5), Some(30));
        assert_eq!(lock_secs(6, 5), Some(60));
        assert_eq!(lock_secs(7, 5), Some(120));
        assert_eq!(lock_secs(100, 5), Some(900));
    }

    #[tokio::test]
    async fn locks_one_account_and_not_another() {
        let throttle = LoginThrottle::new(
            Ephemeral::in_process(),
            ThrottleLimits {
                account_max_failures: 2,
                ip_max_failures: 100,
            },
        );
        let now = 1_000;
        for _ in 0..2 {
            throttle
                .record_failure("alice", "1.2.3.4", now)
                .await
                .unwrap();
        }
        assert_eq!(
            throttle.check("Alice", "1.2.3.4", now).await.unwrap(),
            Err(30)
        );
        assert_eq!(throttle.check("bob", "1.2.3.4", now).await.unwrap(), Ok(()));
        throttle.record_success("alice", "1.2.3.4").await.unwrap();
        assert_eq!(
            throttle.check("alice", "1.2.3.4", now).await.unwrap(),
            Ok(())
        );
    }
}
