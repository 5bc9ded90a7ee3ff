//! Login throttling in the ephemeral store, per account and per client IP.
//!
//! Per account, every attempt is *reserved* atomically before the password
//! is hashed ([`Ephemeral::reserve_attempt`]): of twenty wrong passwords sent
//! at the same moment at most `login_max_failures` are evaluated, the rest
//! get 429. The attempt that reaches the limit locks the account for 30 s,
//! doubling with each further attempt up to 15 minutes; a success clears it.
//! The account is the user (by id) whatever identifier was typed, so the
//! username and the email share one counter; unknown names are counted by
//! the name typed, so both look the same from outside.
//!
//! Per IP only failures count (many people share a NAT or a proxy), with a
//! high limit; a lock on one account never slows a login to another.

use crate::crypto::{b64, sha256};
use crate::store::ephemeral::{AttemptPolicy, Reservation};
use crate::store::{Ephemeral, Key, StoreError};

const BASE_LOCK_SECS: i64 = 30;
const MAX_LOCK_SECS: i64 = 15 * 60;
/// Attempts are counted over this window.
const FAILURE_WINDOW_SECS: i64 = 3600;

#[derive(Debug, Clone, Copy)]
pub struct ThrottleLimits {
    pub account_max_failures: i64,
    pub ip_max_failures: i64,
}

/// Whose attempts are counted together.
#[derive(Debug, Clone, Copy)]
pub enum Account<'a> {
    /// A known user, by id: every identifier of theirs shares the counter.
    User(&'a str),
    /// A name that matches nobody, as typed (case and spaces ignored).
    Unknown(&'a str),
}

impl Account<'_> {
    /// Hashed, so usernames (which may be emails) are not stored in the
    /// clear in Redis.
    fn hash(&self) -> String {
        let raw = match self {
            Account::User(id) => format!("user:{id}"),
            Account::Unknown(login) => format!("login:{}", login.trim().to_lowercase()),
        };
        b64(&sha256(raw.as_bytes()))
    }
}

#[derive(Clone)]
pub struct LoginThrottle {
    store: Ephemeral,
    limits: ThrottleLimits,
}

fn policy(max: i64) -> AttemptPolicy {
    AttemptPolicy {
        max,
        base_lock_secs: BASE_LOCK_SECS,
        max_lock_secs: MAX_LOCK_SECS,
        window_secs: FAILURE_WINDOW_SECS,
    }
}

impl LoginThrottle {
    pub fn new(store: Ephemeral, limits: ThrottleLimits) -> LoginThrottle {
        LoginThrottle { store, limits }
    }

    /// Reserves one attempt for `account` from `ip`: `Err(seconds)` while
    /// the IP or the account is locked (nothing is counted then).
    pub async fn reserve(
        &self,
        account: Account<'_>,
        ip: &str,
        now: i64,
    ) -> Result<Result<(), i64>, StoreError> {
        if let Some(until) = self.store.get(Key::IpLock(ip)).await? {
            let until: i64 = String::from_utf8_lossy(&until).parse().unwrap_or(0);
            if until > now {
                return Ok(Err(until - now));
            }
        }
        let policy = policy(self.limits.account_max_failures);
        Ok(
            match self
                .store
                .reserve_attempt(Key::LoginAttempts(&account.hash()), &policy, now)
                .await?
            {
                Reservation::Allowed => Ok(()),
                Reservation::Locked { retry_after } => Err(retry_after),
            },
        )
    }

    /// A failed attempt: the account's was counted when it was reserved;
    /// the IP's is counted now.
    pub async fn record_failure(&self, ip: &str, now: i64) -> Result<(), StoreError> {
        let failures = self
            .store
            .incr(Key::IpFailures(ip), FAILURE_WINDOW_SECS)
            .await?;
        if let Some(secs) = policy(self.limits.ip_max_failures).lock_secs(failures) {
            let until = (now + secs).to_string();
            self.store
                .put(Key::IpLock(ip), until.as_bytes(), secs)
                .await?;
        }
        Ok(())
    }

    /// A successful login clears the account's attempts (not the IP's).
    pub async fn record_success(&self, account: Account<'_>) -> Result<(), StoreError> {
        self.store.delete(Key::LoginAttempts(&account.hash())).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle(account_max: i64) -> LoginThrottle {
        LoginThrottle::new(
            Ephemeral::in_process(),
            ThrottleLimits {
                account_max_failures: account_max,
                ip_max_failures: 100,
            },
        )
    }

    #[test]
    fn backoff_starts_at_the_threshold_and_doubles_to_a_cap() {
        let p = policy(5);
        assert_eq!(p.lock_secs(4), None);
        assert_eq!(p.lock_secs(5), Some(30));
        assert_eq!(p.lock_secs(6), Some(60));
        assert_eq!(p.lock_secs(7), Some(120));
        assert_eq!(p.lock_secs(100), Some(900));
    }

    #[tokio::test]
    async fn locks_one_account_and_not_another() {
        let throttle = throttle(2);
        let now = 1_000;
        let alice = Account::User("u-alice");
        for _ in 0..2 {
            assert_eq!(
                throttle.reserve(alice, "1.2.3.4", now).await.unwrap(),
                Ok(())
            );
        }
        assert_eq!(
            throttle.reserve(alice, "1.2.3.4", now).await.unwrap(),
            Err(30)
        );
        let bob = Account::Unknown("Bob");
        assert_eq!(throttle.reserve(bob, "1.2.3.4", now).await.unwrap(), Ok(()));
        throttle.record_success(alice).await.unwrap();
        assert_eq!(
            throttle.reserve(alice, "1.2.3.4", now).await.unwrap(),
            Ok(())
        );
    }

    #[tokio::test]
    async fn unknown_names_ignore_case_and_spaces() {
        let throttle = throttle(1);
        let now = 1_000;
        assert_eq!(
            throttle
                .reserve(Account::Unknown(" Nobody "), "1.2.3.4", now)
                .await
                .unwrap(),
            Ok(())
        );
        assert_eq!(
            throttle
                .reserve(Account::Unknown("nobody"), "1.2.3.4", now)
                .await
                .unwrap(),
            Err(30)
        );
    }

    #[tokio::test]
    async fn ip_failures_lock_the_ip() {
        let throttle = LoginThrottle::new(
            Ephemeral::in_process(),
            ThrottleLimits {
                account_max_failures: 100,
                ip_max_failures: 2,
            },
        );
        let now = 1_000;
        for _ in 0..2 {
            throttle.record_failure("5.6.7.8", now).await.unwrap();
        }
        let anyone = Account::Unknown("x");
        assert_eq!(
            throttle.reserve(anyone, "5.6.7.8", now).await.unwrap(),
            Err(30)
        );
        assert_eq!(
            throttle.reserve(anyone, "9.9.9.9", now).await.unwrap(),
            Ok(())
        );
    }
}
