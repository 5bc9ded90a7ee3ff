//! Signing keys: generation, encryption at rest, rotation, the JWKS
//! document, and signing/verifying JWTs with keys kept parsed in memory.

mod kek;
mod keyring;
mod rotation;
mod signing;

pub use kek::{KekSource, KeyEncryptionKey};
pub use keyring::{JwtError, KeyRing, VerifiedJwt};
pub use rotation::{ensure_keys, rotate, summaries, KeyService, KeySummary};
pub use signing::{Alg, SigningKey};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("key-encryption key: {0}")]
    Kek(String),
    #[error("cannot decrypt signing key {0}: wrong key-encryption key or corrupt record")]
    Decrypt(String),
    #[error("cryptographic operation failed: {0}")]
    Crypto(String),
    #[error("no active {0} signing key")]
    NoActiveKey(&'static str),
}
