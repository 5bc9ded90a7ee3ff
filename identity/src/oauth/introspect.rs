//! Token introspection (RFC 7662) for authenticated clients: access tokens
//! are checked by signature, expiry and the deny-list (no durable read for
//! client tokens), and shown only to the client they were issued to or the
//! resource server in their `aud`; refresh tokens by their hash, only to
//! their client. Anything else, including a token this server did not issue,
//! is simply `active: false`.

use super::{access_token, refresh};
use crate::oauth::clients::Client;
use crate::App;
use serde::Serialize;

#[derive(Debug, Default, Serialize)]
pub struct Introspection {
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

pub async fn introspect(
    app: &App,
    caller: &Client,
    token: &str,
    hint: Option<&str>,
    now: i64,
) -> Result<Introspection, super::OAuthError> {
    if token.is_empty() || token.len() > 8192 {
        return Ok(Introspection::default());
    }
    let looks_like_jwt = token.bytes().filter(|b| *b == b'.').count() == 2;
    let try_access_first = hint != Some("refresh_token") && looks_like_jwt;
    if try_access_first {
        if let Some(found) = introspect_access(app, caller, token, now).await? {
            return Ok(found);
        }
    }
    if !looks_like_jwt {
        if let Some((family, exp)) = refresh::lookup(&app.db, token, now).await? {
            // Refresh tokens are only disclosed to the client they belong to.
            if family.client_id == caller.client_id {
                let username = app.users.by_id(&family.user_id).await?;
                return Ok(Introspection {
                    active: true,
                    scope: Some(super::scope::join(&family.scopes)),
                    client_id: Some(family.client_id),
                    username: username.map(|u| u.username),
                    token_type: Some("refresh_token"),
                    exp: Some(exp),
                    sub: Some(family.user_id),
                    iss: Some(app.issuer.clone()),
                    ..Introspection::default()
                });
            }
        }
    }
    Ok(Introspection::default())
}

async fn introspect_access(
    app: &App,
    caller: &Client,
    token: &str,
    now: i64,
) -> Result<Option<Introspection>, super::OAuthError> {
    let valid = match access_token::validate(app, token, now).await {
        Ok(valid) => valid,
        // An unreachable deny-list is an error, never "inactive" or "active".
        Err(e) if e.is_server_side() => return Err(e),
        Err(_) => return Ok(None),
    };
    let (claims, username) = (valid.claims, valid.user.map(|u| u.username));
    // RFC 7662 section 4: only the client the token was issued to and the
    // resource server it is for learn that it is active; to anyone else it
    // is just not a token (no scanning other clients' tokens).
    if claims.client_id != caller.client_id
        && !app
            .resources
            .introspected_by(&caller.client_id)
            .await?
            .contains(&claims.aud)
    {
        return Ok(None);
    }
    Ok(Some(Introspection {
        active: true,
        scope: Some(claims.scope),
        client_id: Some(claims.client_id),
        username,
        token_type: Some("Bearer"),
        exp: Some(claims.exp),
        iat: Some(claims.iat),
        sub: Some(claims.sub),
        aud: Some(claims.aud),
        iss: Some(claims.iss),
        jti: Some(claims.jti),
    }))
}
