//! argon2id password hashing. Each hash holds `memory_kib` of memory, so at
//! most one hash per core runs at once: a login burst queues instead of
//! exhausting memory, and other requests keep their latency.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::Arc;
use tokio::sync::Semaphore;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    permits: Arc<Semaphore>,
    /// A real hash of a random password: verifying against it when the user
    /// does not exist costs the same time as a wrong password.
    dummy_hash: Arc<String>,
}

/// What a verification found.
#[derive(Debug, PartialEq, Eq)]
pub enum Verified {
    Wrong,
    Correct { needs_rehash: bool },
}

impl PasswordHasher {
    pub fn new(policy: PasswordPolicy, concurrency: usize) -> Result<PasswordHasher, String> {
        let params = Params::new(
            policy.memory_kib,
            policy.iterations,
            policy.parallelism,
            None,
        )
        .map_err(|e| format!("argon2 parameters: {e}"))?;
        let mut hasher = PasswordHasher {
            params,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            dummy_hash: Arc::new(String::new()),
        };
        hasher.dummy_hash = Arc::new(hasher.hash_now(&crate::crypto::random_token())?);
        Ok(hasher)
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    fn hash_now(&self, password: &str) -> Result<String, String> {
        self.argon2()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| format!("argon2: {e}"))
    }

    /// Hashes `password` with the configured parameters (PHC string).
    pub async fn hash(&self, password: String) -> Result<String, String> {
        let _permit = self.permits.acquire().await.map_err(|e| e.to_string())?;
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.hash_now(&password))
            .await
            .map_err(|e| e.to_string())?
    }

    /// Verifies `password` against `stored`; with no stored hash (unknown
    /// user, passwordless account) it verifies against a dummy hash so the
    /// answer takes the same time, and is `Wrong`.
    pub async fn verify(&self, stored: Option<String>, password: String) -> Verified {
        let Ok(_permit) = self.permits.acquire().await else {
            return Verified::Wrong;
        };
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.verify_now(stored.as_deref(), &password))
            .await
            .unwrap_or(Verified::Wrong)
    }

    fn verify_now(&self, stored: Option<&str>, password: &str) -> Verified {
        let real = stored.is_some();
        let text = stored.unwrap_or(self.dummy_hash.as_str());
        let Ok(parsed) = PasswordHash::new(text) else {
            return Verified::Wrong;
        };
        let ok = self
            .argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        if !(ok && real) {
            return Verified::Wrong;
        }
        let current = Params::try_from(&parsed).ok();
        let needs_rehash = parsed.algorithm.as_str() != "argon2id"
            || current.is_none_or(|p| {
                p.m_cost() != self.params.m_cost()
                    || p.t_cost() != self.params.t_cost()
                    || p.p_cost() != self.params.p_cost()
            });
        Verified::Correct { needs_rehash }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hasher(memory_kib: u32) -> PasswordHasher {
        PasswordHasher::new(
            PasswordPolicy {
                memory_kib,
                iterations: 1,
                parallelism: 1,
            },
            2,
        )
        .unwrap()
    }

    #[tokio::test]
    async fn right_password_verifies_and_wrong_does_not() {
        let h = hasher(8192);
        let stored = h.hash("correct horse".into()).await.unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=8192,t=1,p=1$"));
        assert_eq!(
            h.verify(Some(stored.clone()), "correct horse".into()).await,
            Verified::Correct {
                needs_rehash: false
            }
        );
        assert_eq!(
            h.verify(Some(stored), "wrong".into()).await,
            Verified::Wrong
        );
    }

    #[tokio::test]
    async fn missing_or_corrupt_hash_is_wrong() {
        let h = hasher(8192);
        assert_eq!(h.verify(None, "anything".into()).await, Verified::Wrong);
        assert_eq!(
            h.verify(Some("not a hash".into()), "x".into()).await,
            Verified::Wrong
        );
    }

    #[tokio::test]
    async fn hash_with_old_parameters_asks_for_rehash() {
        let old = hasher(8192).hash("pw".into()).await.unwrap();
        assert_eq!(
            hasher(9216).verify(Some(old), "pw".into()).await,
            Verified::Correct { needs_rehash: true }
        );
    }
}
