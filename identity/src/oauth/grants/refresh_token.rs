//! refresh_token (RFC 6749 section 6): rotation on every use; the scope may
//! be narrowed, never widened.

use super::{require_active_user, sign_user_tokens, TokenRequest, TokenResponse, UserGrant};
use crate::oauth::clients::{Client, GrantType};
use crate::oauth::{refresh, scope, OAuthError};
use crate::App;

pub async fn exchange(
    app: &App,
    client: &Client,
    request: &TokenRequest,
    now: i64,
) -> Result<TokenResponse, OAuthError> {
    let presented = request
        .refresh_token
        .as_deref()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?;
    if !client.allows_grant(GrantType::RefreshToken) {
        return Err(OAuthError::UnauthorizedClient(
            "this client may not use refresh tokens".into(),
        ));
    }
    // Anything that is not one of ours is simply not a valid grant
    // (RFC 6749 5.2), whatever its shape.
    if presented.len() > 128 {
        return Err(OAuthError::invalid_grant("unknown refresh token"));
    }
    let requested = request
        .scope
        .as_deref()
        .map(scope::parse)
        .filter(|s| !s.is_empty());
    let asked = app.resources.target(request.resource.as_deref()).await??;
    let (new_token, family) = refresh::rotate(
        &app.db,
        presented,
        &client.client_id,
        requested.clone(),
        refresh::Lifetimes {
            token_secs: app.config.refresh_token_ttl_secs,
            family_secs: app.config.refresh_token_max_lifetime_secs,
        },
        now,
    )
    .await?;
    if let Err(e) = require_active_user(app, &family.user_id).await {
        refresh::revoke_family(&app.db, &family.id, now).await?;
        return Err(e);
    }
    // RFC 8707 2.2: a refresh may name the grant's resource, no other.
    if asked.is_some() && asked != family.resource {
        return Err(OAuthError::InvalidTarget(
            "the refresh token was not granted for this resource".into(),
        ));
    }
    let scopes = requested.unwrap_or_else(|| family.scopes.clone());
    let grant = UserGrant {
        user_id: &family.user_id,
        scopes: &scopes,
        auth_time: family.auth_time,
        amr: &family.amr,
        acr: &family.acr,
        sid: &family.sid,
        // OIDC Core 12.2: no nonce in an ID token from a refresh.
        nonce: None,
        jti: crate::crypto::random_token(),
        grant_id: &family.id,
        resource: family.resource.as_deref(),
    };
    let (access_token, exp, id_token) = sign_user_tokens(app, client, &grant, now)?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: exp - now,
        refresh_token: Some(new_token),
        id_token,
        scope: scope::join(&scopes),
    })
}
