//! Authorization codes: 256-bit random, single use (an atomic take from the
//! ephemeral store), short-lived, bound to the client, redirect URI, PKCE
//! challenge, nonce and session. The ids of what a code will issue are
//! chosen before it is issued and remembered under the code's hash, so a
//! replayed code can revoke them (RFC 6749 section 4.1.2).

use crate::crypto::{random_token, secret_hash};
use crate::store::{Ephemeral, Key, StoreError};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CodeGrant {
    pub client_id: String,
    pub redirect_uri: String,
    pub user_id: String,
    pub scopes: Vec<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub auth_time: i64,
    pub amr: Vec<String>,
    pub acr: String,
    pub sid: String,
    pub expires_at: i64,
    /// The resource server asked for at `/authorize` (RFC 8707).
    #[serde(default)]
    pub resource: Option<String>,
}

/// What one redemption issued: revoked if the code is presented again.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Redemption {
    pub family_id: Option<String>,
    pub access_jti: String,
    pub access_exp: i64,
}

pub async fn issue(
    store: &Ephemeral,
    grant: &CodeGrant,
    ttl_secs: i64,
) -> Result<String, StoreError> {
    let code = random_token();
    store
        .put_json(Key::Code(&secret_hash(&code)), grant, ttl_secs)
        .await?;
    Ok(code)
}

/// Takes the code: `Some` for exactly one caller, ever. In the same atomic
/// step it records what this redemption is about to issue, so a replay
/// racing with it, however early, finds what to revoke.
pub async fn take(
    store: &Ephemeral,
    code: &str,
    redemption: &Redemption,
    now: i64,
) -> Result<Option<CodeGrant>, StoreError> {
    if code.is_empty() || code.len() > 128 {
        return Ok(None);
    }
    let hash = secret_hash(code);
    let mark = serde_json::to_vec(redemption).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let ttl = (redemption.access_exp - now).max(1);
    store
        .take_and_mark(Key::Code(&hash), Key::CodeRedemption(&hash), &mark, ttl)
        .await?
        .map(|bytes| serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt(e.to_string())))
        .transpose()
}

/// True while the redemption record of `code` is still there, i.e. no
/// replay has taken it to revoke what the redemption issued.
pub async fn redemption_untouched(store: &Ephemeral, code: &str) -> Result<bool, StoreError> {
    Ok(store
        .get(Key::CodeRedemption(&secret_hash(code)))
        .await?
        .is_some())
}

/// The redemption of a code presented again, taken so it is revoked once.
pub async fn take_redemption(
    store: &Ephemeral,
    code: &str,
) -> Result<Option<Redemption>, StoreError> {
    if code.is_empty() || code.len() > 128 {
        return Ok(None);
    }
    store
        .take_json(Key::CodeRedemption(&secret_hash(code)))
        .await
}
