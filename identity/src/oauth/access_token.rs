//! Access tokens: JWTs per RFC 9068, signed ES256 by default, with no
//! durable write per token. Revocation before expiry is a deny-list of
//! `jti`s in the ephemeral store, checked where instant revocation is
//! promised (introspection, userinfo).

use super::OAuthError;
use crate::accounts::User;
use crate::cache::TtlCache;
use crate::keys::{Alg, JwtError, KeyRing};
use crate::store::{Ephemeral, Key, StoreError};
use crate::App;
use serde::{Deserialize, Serialize};

/// The JOSE `typ` of an access token (RFC 9068 section 2.1).
pub const TYP: &str = "at+jwt";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub client_id: String,
    pub scope: String,
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub auth_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub acr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sid: Option<String>,
    /// The grant (refresh-token family) a user's token comes from: revoking
    /// the grant, its refresh token, or the user's credentials ends it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub grant_id: Option<String>,
}

impl AccessClaims {
    /// True for a token issued to a user (not client_credentials).
    pub fn has_user(&self) -> bool {
        self.auth_time.is_some()
    }

    pub fn scopes(&self) -> Vec<String> {
        super::scope::parse(&self.scope)
    }
}

pub fn sign(ring: &KeyRing, claims: &AccessClaims) -> Result<String, OAuthError> {
    Ok(ring.sign(Alg::Es256, TYP, claims)?)
}

/// Denies the token until it expires anyway.
pub async fn deny(store: &Ephemeral, jti: &str, exp: i64, now: i64) -> Result<(), StoreError> {
    if exp > now {
        store.put(Key::Revoked(jti), b"1", exp - now).await?;
    }
    Ok(())
}

/// Tokens whose signature has been checked, by the SHA-256 of the token:
/// a resource server introspecting the same token on every call pays for
/// one signature verification, not one per call. The deny-list is still
/// read every time.
pub type VerifiedTokens = TtlCache<Vec<u8>, AccessClaims>;

/// How long a verified token is remembered (at most until it expires).
const VERIFIED_TTL_SECS: i64 = 300;

/// A valid access token and, for a user's token, the user it speaks for.
#[derive(Debug, Clone)]
pub struct Validated {
    pub claims: AccessClaims,
    pub user: Option<User>,
}

/// Verifies an access token: signature by a published key with that key's
/// algorithm, `typ: at+jwt`, issuer, expiry, the deny-list, that its
/// client still exists (from the client cache: a removed client's tokens,
/// client_credentials ones included, die with it), and for a user's token
/// that the user is enabled and its grant not revoked (one durable read,
/// which the user lookup needed anyway).
pub async fn validate(app: &App, token: &str, now: i64) -> Result<Validated, OAuthError> {
    let claims = validate_unrevoked(app, token, now).await?;
    if app.clients.get(&claims.client_id).await?.is_none() {
        return Err(OAuthError::InvalidToken(
            "the access token's client was removed".into(),
        ));
    }
    let user = if claims.has_user() {
        Some(live_user(app, &claims).await?)
    } else {
        None
    };
    Ok(Validated { claims, user })
}

/// The user of a token whose user is enabled and whose grant (refresh
/// family) is not revoked; otherwise `invalid_token`.
async fn live_user(app: &App, claims: &AccessClaims) -> Result<User, OAuthError> {
    let (user_id, grant_id) = (claims.sub.clone(), claims.grant_id.clone());
    let (row, grant_live) = app
        .db
        .run(move |c| {
            let row = crate::store::users::by_id(c, &user_id)?;
            let grant_live = match &grant_id {
                Some(id) => crate::store::refresh::family_of_user(c, id, &user_id)?
                    .is_some_and(|family| family.revoked_at.is_none()),
                // Issued before tokens named their grant; expires soon.
                None => true,
            };
            Ok((row, grant_live))
        })
        .await?;
    match row {
        Some(row) if grant_live && !row.disabled => Ok(User::from(row)),
        _ => Err(OAuthError::InvalidToken(
            "the access token was revoked".into(),
        )),
    }
}

/// Signature, type, issuer, audience, expiry and the deny-list: what needs
/// no durable read.
async fn validate_unrevoked(app: &App, token: &str, now: i64) -> Result<AccessClaims, OAuthError> {
    let digest = crate::crypto::sha256(token.as_bytes());
    let claims = match app.verified_tokens.get(&digest) {
        Some(claims) if claims.exp > now => claims,
        _ => {
            let claims = verify_signed(&app.keys.ring(), &app.issuer, token, now)?;
            let ttl = (claims.exp - now).clamp(0, VERIFIED_TTL_SECS) as u64;
            app.verified_tokens
                .insert(digest, claims.clone(), std::time::Duration::from_secs(ttl));
            claims
        }
    };
    if app
        .ephemeral
        .get(Key::Revoked(&claims.jti))
        .await?
        .is_some()
    {
        return Err(OAuthError::InvalidToken(
            "the access token was revoked".into(),
        ));
    }
    Ok(claims)
}

/// The checks that need no state: signature, type, issuer, audience, expiry.
pub fn verify_signed(
    ring: &KeyRing,
    issuer: &str,
    token: &str,
    now: i64,
) -> Result<AccessClaims, OAuthError> {
    let verified = ring.verify(token, now, false).map_err(|e| {
        OAuthError::InvalidToken(match e {
            JwtError::Expired => "the access token has expired".into(),
            _ => "the access token is invalid".into(),
        })
    })?;
    if verified.typ.as_deref() != Some(TYP) {
        return Err(OAuthError::InvalidToken("not an access token".into()));
    }
    let claims: AccessClaims = serde_json::from_value(verified.claims)
        .map_err(|_| OAuthError::InvalidToken("the access token is invalid".into()))?;
    // `aud` is the resource server or the client (RFC 8707); who may act
    // on the token is decided by the caller (introspection, userinfo).
    if claims.iss != issuer {
        return Err(OAuthError::InvalidToken(
            "the access token is not from this issuer".into(),
        ));
    }
    Ok(claims)
}
