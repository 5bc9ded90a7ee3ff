//! The key-encryption key: AES-256-GCM over each private signing key, with
//! the key id as associated data so a ciphertext cannot be moved to another
//! record.

use super::KeyError;
use crate::config::{Config, DatabaseKind};
use crate::crypto::{b64, b64_decode, random_bytes};
use aws_lc_rs::aead::{Aad, Nonce, RandomizedNonceKey, AES_256_GCM, NONCE_LEN};
use std::path::PathBuf;

pub struct KeyEncryptionKey {
    key: RandomizedNonceKey,
}

/// Where the key-encryption key came from, for the start-up message.
#[derive(Debug, Clone)]
pub enum KekSource {
    Config,
    File(PathBuf),
    Created(PathBuf),
}

impl KeyEncryptionKey {
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        if bytes.len() != 32 {
            return Err(KeyError::Kek(format!(
                "must be 32 bytes (base64url), got {}",
                bytes.len()
            )));
        }
        let key = RandomizedNonceKey::new(&AES_256_GCM, bytes)
            .map_err(|_| KeyError::Kek("unusable key".into()))?;
        Ok(KeyEncryptionKey { key })
    }

    fn from_text(text: &str) -> Result<Self, KeyError> {
        let bytes = b64_decode(text.trim())
            .ok_or_else(|| KeyError::Kek("is not base64url of 32 bytes".into()))?;
        Self::from_bytes(&bytes)
    }

    /// Reads the key from config, or from its file; the embedded default
    /// creates `<database file>.kek` (mode 0600) on first start. Production
    /// mode (PostgreSQL) never invents one: a lost key would make every
    /// stored signing key unreadable on the other nodes.
    pub fn load(config: &Config) -> Result<(Self, KekSource), KeyError> {
        if let Some(text) = &config.key_encryption_key {
            return Ok((Self::from_text(text)?, KekSource::Config));
        }
        if let Some(path) = &config.key_encryption_key_file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| KeyError::Kek(format!("cannot read {}: {e}", path.display())))?;
            return Ok((Self::from_text(&text)?, KekSource::File(path.clone())));
        }
        match config.database_kind() {
            Ok(DatabaseKind::Sqlite(db_path)) => {
                let mut path = db_path.into_os_string();
                path.push(".kek");
                let path = PathBuf::from(path);
                if path.exists() {
                    let text = std::fs::read_to_string(&path).map_err(|e| {
                        KeyError::Kek(format!("cannot read {}: {e}", path.display()))
                    })?;
                    return Ok((Self::from_text(&text)?, KekSource::File(path)));
                }
                let text = b64(&random_bytes(32));
                write_private_file(&path, &text)?;
                Ok((Self::from_text(&text)?, KekSource::Created(path)))
            }
            _ => Err(KeyError::Kek(
                "production mode (PostgreSQL) needs TESSERA_KEY_ENCRYPTION_KEY or \
                 TESSERA_KEY_ENCRYPTION_KEY_FILE: 32 random bytes, base64url, the same on every \
                 node (e.g. `head -c32 /dev/urandom | basenc --base64url | tr -d =`)"
                    .into(),
            )),
        }
    }

    /// nonce || ciphertext || tag
    pub fn seal(&self, kid: &str, plaintext: &[u8]) -> Result<Vec<u8>, KeyError> {
        let mut data = plaintext.to_vec();
        let nonce = self
            .key
            .seal_in_place_append_tag(Aad::from(kid.as_bytes()), &mut data)
            .map_err(|_| KeyError::Crypto("seal".into()))?;
        let mut out = nonce.as_ref().to_vec();
        out.extend_from_slice(&data);
        Ok(out)
    }

    pub fn open(&self, kid: &str, sealed: &[u8]) -> Result<Vec<u8>, KeyError> {
        if sealed.len() < NONCE_LEN + 16 {
            return Err(KeyError::Decrypt(kid.into()));
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce =
            Nonce::try_assume_unique_for_key(nonce).map_err(|_| KeyError::Decrypt(kid.into()))?;
        let mut data = ciphertext.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(kid.as_bytes()), &mut data)
            .map_err(|_| KeyError::Decrypt(kid.into()))?;
        Ok(plain.to_vec())
    }
}

fn write_private_file(path: &PathBuf, text: &str) -> Result<(), KeyError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| KeyError::Kek(format!("cannot create {}: {e}", path.display())))?;
    file.write_all(text.as_bytes())
        .map_err(|e| KeyError::Kek(format!("cannot write {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_keys_open_only_with_the_same_kek_and_kid() {
        let kek = KeyEncryptionKey::from_bytes(&[7u8; 32]).unwrap();
        let sealed = kek.seal("kid-1", b"private").unwrap();
        assert_eq!(kek.open("kid-1", &sealed).unwrap(), b"private");
        assert!(kek.open("kid-2", &sealed).is_err(), "kid is bound as AAD");
        let other = KeyEncryptionKey::from_bytes(&[8u8; 32]).unwrap();
        assert!(other.open("kid-1", &sealed).is_err());
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(kek.open("kid-1", &tampered).is_err());
    }

    #[test]
    fn production_mode_refuses_to_invent_a_kek() {
        let config = Config {
            database_url: "postgres://127.0.0.1/x".into(),
            ..Config::default()
        };
        let err = KeyEncryptionKey::load(&config).err().unwrap();
        assert!(err.to_string().contains("TESSERA_KEY_ENCRYPTION_KEY"));
    }

    #[test]
    fn short_keys_are_refused() {
        assert!(KeyEncryptionKey::from_bytes(&[1u8; 16]).is_err());
    }
}
