//! The provider's browser session (single sign-on across clients). The
//! cookie holds a 256-bit random value; the store holds only its hash.

use crate::crypto::{random_token, secret_hash};
use crate::store::{Ephemeral, Key, StoreError};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BrowserSession {
    /// Session id, given to clients as the `sid` claim.
    pub sid: String,
    pub user_id: String,
    /// When the user last authenticated actively.
    pub auth_time: i64,
    /// RFC 8176 methods used at `auth_time`.
    pub amr: Vec<String>,
    pub expires_at: i64,
}

#[derive(Clone)]
pub struct SessionStore {
    store: Ephemeral,
    ttl_secs: i64,
}

impl SessionStore {
    pub fn new(store: Ephemeral, ttl_secs: i64) -> SessionStore {
        SessionStore { store, ttl_secs }
    }

    pub fn ttl_secs(&self) -> i64 {
        self.ttl_secs
    }

    fn hash(cookie: &str) -> String {
        secret_hash(cookie)
    }

    /// Starts a session; returns the cookie value and the session.
    pub async fn start(
        &self,
        user_id: &str,
        amr: Vec<String>,
        now: i64,
    ) -> Result<(String, BrowserSession), StoreError> {
        let cookie = random_token();
        let session = BrowserSession {
            sid: crate::crypto::new_id(),
            user_id: user_id.to_string(),
            auth_time: now,
            amr,
            expires_at: now + self.ttl_secs,
        };
        self.store
            .put_json(Key::Session(&Self::hash(&cookie)), &session, self.ttl_secs)
            .await?;
        Ok((cookie, session))
    }

    pub async fn get(&self, cookie: &str, now: i64) -> Result<Option<BrowserSession>, StoreError> {
        let session: Option<BrowserSession> = self
            .store
            .get_json(Key::Session(&Self::hash(cookie)))
            .await?;
        Ok(session.filter(|s| s.expires_at > now))
    }

    pub async fn end(&self, cookie: &str) -> Result<Option<BrowserSession>, StoreError> {
        self.store
            .take_json(Key::Session(&Self::hash(cookie)))
            .await
    }
}
