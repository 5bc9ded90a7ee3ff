//! client_credentials (RFC 6749 section 4.4): a confidential client gets an
//! access token for itself. No durable write: the token is a signed JWT.

use super::{TokenRequest, TokenResponse};
use crate::oauth::access_token::{self, AccessClaims};
use crate::oauth::clients::{Client, GrantType};
use crate::oauth::{scope, OAuthError};
use crate::App;

/// Scopes that only make sense for a user.
const USER_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

pub async fn exchange(
    app: &App,
    client: &Client,
    request: &TokenRequest,
    now: i64,
) -> Result<TokenResponse, OAuthError> {
    if client.is_public() || !client.allows_grant(GrantType::ClientCredentials) {
        return Err(OAuthError::UnauthorizedClient(
            "this client may not use client_credentials".into(),
        ));
    }
    let allowed: Vec<String> = client
        .scopes
        .iter()
        .filter(|s| !USER_SCOPES.contains(&s.as_str()))
        .cloned()
        .collect();
    let scopes = match request.scope.as_deref() {
        Some(requested) => {
            let requested = scope::parse(requested);
            if let Some(bad) = requested.iter().find(|s| !allowed.contains(s)) {
                return Err(OAuthError::InvalidScope(format!(
                    "scope `{bad}` is not allowed for this client"
                )));
            }
            requested
        }
        None => allowed,
    };
    let resource = app.resources.target(request.resource.as_deref()).await??;
    let exp = now + app.config.access_token_ttl_secs;
    let claims = AccessClaims {
        iss: app.issuer.clone(),
        sub: client.client_id.clone(),
        aud: resource.unwrap_or_else(|| client.client_id.clone()),
        client_id: client.client_id.clone(),
        scope: scope::join(&scopes),
        jti: crate::crypto::random_token(),
        iat: now,
        exp,
        auth_time: None,
        acr: None,
        sid: None,
        grant_id: None,
    };
    let access_token = access_token::sign(&app.keys.ring(), &claims)?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: exp - now,
        refresh_token: None,
        id_token: None,
        scope: claims.scope,
    })
}
