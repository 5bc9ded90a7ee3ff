//! The token endpoint (RFC 6749 section 3.2): client authentication, then
//! one grant per file.

mod authorization_code;
mod client_auth;
mod client_credentials;
mod refresh_token;

pub use client_auth::{authenticate_client, ClientCredentials};

use super::access_token::{self, AccessClaims};
use super::clients::Client;
use super::{scope, OAuthError};
use crate::oidc::id_token::{self, IdTokenInput};
use crate::App;
use serde::{Deserialize, Serialize};

/// Token request parameters (form fields other than client credentials).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
    /// RFC 8707: the resource server the access token is for.
    pub resource: Option<String>,
}

/// RFC 6749 section 5.1.
#[derive(Debug, Clone, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    pub scope: String,
}

/// Runs the grant the request names, for an authenticated client.
pub async fn exchange(
    app: &App,
    client: &Client,
    request: &TokenRequest,
    now: i64,
) -> Result<TokenResponse, OAuthError> {
    let grant = request
        .grant_type
        .as_deref()
        .filter(|g| !g.is_empty())
        .ok_or_else(|| OAuthError::invalid_request("grant_type is required"))?;
    let response = match grant {
        "authorization_code" => authorization_code::exchange(app, client, request, now).await,
        "refresh_token" => refresh_token::exchange(app, client, request, now).await,
        "client_credentials" => client_credentials::exchange(app, client, request, now).await,
        other => Err(OAuthError::UnsupportedGrantType(format!(
            "grant type `{other}` is not supported"
        ))),
    }?;
    app.metrics.token_issued(grant);
    Ok(response)
}

/// What a user-facing grant issues tokens for.
pub(crate) struct UserGrant<'a> {
    pub user_id: &'a str,
    pub scopes: &'a [String],
    pub auth_time: i64,
    pub amr: &'a [String],
    pub acr: &'a str,
    pub sid: &'a str,
    pub nonce: Option<&'a str>,
    pub jti: String,
    /// The grant (refresh family) the tokens come from.
    pub grant_id: &'a str,
    /// The resource server the access token is for; `None`: the client.
    pub resource: Option<&'a str>,
}

/// Signs the access token and, for `openid`, the ID token.
pub(crate) fn sign_user_tokens(
    app: &App,
    client: &Client,
    grant: &UserGrant<'_>,
    now: i64,
) -> Result<(String, i64, Option<String>), OAuthError> {
    let ring = app.keys.ring();
    let exp = now + app.config.access_token_ttl_secs;
    let claims = AccessClaims {
        iss: app.issuer.clone(),
        sub: grant.user_id.to_string(),
        aud: grant.resource.unwrap_or(&client.client_id).to_string(),
        client_id: client.client_id.clone(),
        scope: scope::join(grant.scopes),
        jti: grant.jti.clone(),
        iat: now,
        exp,
        auth_time: Some(grant.auth_time),
        acr: Some(grant.acr.to_string()),
        sid: Some(grant.sid.to_string()),
        grant_id: Some(grant.grant_id.to_string()),
    };
    let access = access_token::sign(&ring, &claims)?;
    let id_token = if scope::contains(grant.scopes, "openid") {
        Some(id_token::sign(
            &ring,
            &IdTokenInput {
                issuer: &app.issuer,
                client,
                subject: grant.user_id,
                nonce: grant.nonce,
                auth_time: grant.auth_time,
                amr: grant.amr,
                acr: grant.acr,
                sid: grant.sid,
                access_token: &access,
                ttl_secs: app.config.id_token_ttl_secs,
            },
            now,
        )?)
    } else {
        None
    };
    Ok((access, exp, id_token))
}

/// Refuses grants for users who no longer exist or are disabled.
pub(crate) async fn require_active_user(app: &App, user_id: &str) -> Result<(), OAuthError> {
    match app.users.by_id(user_id).await {
        Ok(Some(user)) if !user.disabled => Ok(()),
        Ok(_) => Err(OAuthError::invalid_grant("the user is disabled or gone")),
        Err(e) => Err(OAuthError::from(e)),
    }
}
