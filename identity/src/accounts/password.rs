//! argon2id password hashing. Each hash needs `memory_kib` of working
//! memory, so at most one hash per core runs at once and each running hash
//! reuses one of a few preallocated buffers: a login burst queues instead
//! of exhausting memory, no 19 MiB allocation (and its page faults) is paid
//! per login, and other requests keep their latency.

use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine;
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

const SALT_LEN: usize = 16;
const OUTPUT_LEN: usize = 32;

#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    permits: Arc<Semaphore>,
    /// Working memory, one buffer per permit, reused across hashes.
    buffers: Arc<Mutex<Vec<Vec<Block>>>>,
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
            Some(OUTPUT_LEN),
        )
        .map_err(|e| format!("argon2 parameters: {e}"))?;
        let mut hasher = PasswordHasher {
            params,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            buffers: Arc::new(Mutex::new(Vec::new())),
            dummy_hash: Arc::new(String::new()),
        };
        hasher.dummy_hash = Arc::new(hasher.hash_now(&crate::crypto::random_token())?);
        Ok(hasher)
    }

    /// Runs `f` with a working buffer of at least `blocks` blocks; the
    /// buffer goes back to the pool afterwards.
    fn with_memory<T>(&self, blocks: usize, f: impl FnOnce(&mut [Block]) -> T) -> T {
        let pooled = self.buffers.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut buffer = match pooled {
            Some(b) if b.len() >= blocks => b,
            _ => vec![Block::default(); blocks],
        };
        let result = f(&mut buffer[..blocks]);
        if buffer.len() == self.params.block_count() {
            self.buffers
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(buffer);
        }
        result
    }

    fn hash_now(&self, password: &str) -> Result<String, String> {
        let salt = crate::crypto::random_bytes(SALT_LEN);
        let mut out = [0u8; OUTPUT_LEN];
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone());
        self.with_memory(self.params.block_count(), |memory| {
            argon2.hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, memory)
        })
        .map_err(|e| format!("argon2: {e}"))?;
        Ok(format!(
            "$argon2id$v=19$m={},t={},p={}${}${}",
            self.params.m_cost(),
            self.params.t_cost(),
            self.params.p_cost(),
            STANDARD_NO_PAD.encode(&salt),
            STANDARD_NO_PAD.encode(out)
        ))
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
        let algorithm = match parsed.algorithm.as_str() {
            "argon2id" => Algorithm::Argon2id,
            "argon2i" => Algorithm::Argon2i,
            "argon2d" => Algorithm::Argon2d,
            _ => return Verified::Wrong,
        };
        let (Ok(params), Some(salt), Some(expected)) = (
            Params::try_from(&parsed),
            parsed.salt.as_ref(),
            parsed.hash.as_ref(),
        ) else {
            return Verified::Wrong;
        };
        let expected = expected.as_bytes();
        let mut out = vec![0u8; expected.len()];
        // The stored hash's own output length, whatever it was made with.
        let Ok(params) = argon2::ParamsBuilder::new()
            .m_cost(params.m_cost())
            .t_cost(params.t_cost())
            .p_cost(params.p_cost())
            .output_len(expected.len())
            .build()
        else {
            return Verified::Wrong;
        };
        let version = match parsed.version {
            Some(0x10) => Version::V0x10,
            _ => Version::V0x13,
        };
        let blocks = params.block_count();
        let argon2 = Argon2::new(algorithm, version, params.clone());
        let computed = self.with_memory(blocks, |memory| {
            argon2.hash_password_into_with_memory(password.as_bytes(), salt, &mut out, memory)
        });
        let ok = computed.is_ok() && crate::crypto::constant_time_eq(&out, expected);
        if !(ok && real) {
            return Verified::Wrong;
        }
        let needs_rehash = algorithm != Algorithm::Argon2id
            || version != Version::V0x13
            || params.m_cost() != self.params.m_cost()
            || params.t_cost() != self.params.t_cost()
            || params.p_cost() != self.params.p_cost();
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
    async fn hashes_from_the_argon2_crate_verify() {
        use argon2::password_hash::PasswordHasher as _;
        let params = Params::new(8192, 1, 1, None).unwrap();
        let reference = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(b"pw from elsewhere")
            .unwrap()
            .to_string();
        let h = hasher(8192);
        assert_eq!(
            h.verify(Some(reference.clone()), "pw from elsewhere".into())
                .await,
            Verified::Correct {
                needs_rehash: false
            }
        );
        assert_eq!(
            h.verify(Some(reference), "other".into()).await,
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
