//! The provider's browser session (single sign-on across clients). The
//! cookie holds a 256-bit random value; the store holds only its hash.

use super::users::{User, UserError, Users};
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
    /// The user's session generation this cookie was issued in: at
    /// sign-in, or when the session was carried over to a new cookie after
    /// its own user changed a credential.
    #[serde(default)]
    pub generation: i64,
}

impl BrowserSession {
    /// The one live-session rule: the user is enabled and no credential of
    /// theirs changed since this cookie was issued (a change moves the
    /// user's generation on, see `end_grants_and_sessions`).
    pub fn is_live_for(&self, user: &User) -> bool {
        !user.disabled && self.generation == user.session_generation
    }
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

    /// Starts a session for `user` in their current session generation;
    /// returns the cookie value and the session.
    pub async fn start(
        &self,
        user: &User,
        amr: Vec<String>,
        now: i64,
    ) -> Result<(String, BrowserSession), StoreError> {
        let cookie = random_token();
        let session = BrowserSession {
            sid: crate::crypto::new_id(),
            user_id: user.id.clone(),
            auth_time: now,
            amr,
            expires_at: now + self.ttl_secs,
            generation: user.session_generation,
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

    /// The session behind `cookie` with its user, when it is live for them.
    pub async fn live(
        &self,
        users: &Users,
        cookie: &str,
        now: i64,
    ) -> Result<Option<(BrowserSession, User)>, UserError> {
        let Some(session) = self.get(cookie, now).await? else {
            return Ok(None);
        };
        Ok(users
            .by_id(&session.user_id)
            .await?
            .filter(|user| session.is_live_for(user))
            .map(|user| (session, user)))
    }

    /// Carries a session over to a new cookie in `generation`, the one its
    /// own user's credential change just began: the other sessions end,
    /// this one goes on (same `sid`, `auth_time` and methods). Returns the
    /// new cookie.
    pub async fn reissue(
        &self,
        cookie: &str,
        generation: i64,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        let Some(mut session) = self.end(cookie).await? else {
            return Ok(None);
        };
        let fresh = random_token();
        session.generation = generation;
        let ttl = (session.expires_at - now).max(1);
        self.store
            .put_json(Key::Session(&Self::hash(&fresh)), &session, ttl)
            .await?;
        Ok(Some(fresh))
    }

    pub async fn end(&self, cookie: &str) -> Result<Option<BrowserSession>, StoreError> {
        self.store
            .take_json(Key::Session(&Self::hash(cookie)))
            .await
    }
}
