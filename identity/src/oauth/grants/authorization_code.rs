//! authorization_code (RFC 6749 4.1.3, RFC 7636 4.6). The code is taken
//! atomically; a code presented a second time finds nothing to take, and
//! revokes what its first redemption issued (RFC 6749 section 4.1.2).

use super::{require_active_user, sign_user_tokens, TokenRequest, TokenResponse, UserGrant};
use crate::audit::{self, Event, EventKind};
use crate::oauth::clients::{Client, GrantType};
use crate::oauth::code::{self, Redemption};
use crate::oauth::refresh::{self, Family};
use crate::oauth::{access_token, pkce, scope, OAuthError};
use crate::App;

pub async fn exchange(
    app: &App,
    client: &Client,
    request: &TokenRequest,
    now: i64,
) -> Result<TokenResponse, OAuthError> {
    // A malformed request is reported before the grant's permission.
    let presented = request
        .code
        .as_deref()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| OAuthError::invalid_request("code is required"))?;
    if !client.allows_grant(GrantType::AuthorizationCode) {
        return Err(OAuthError::UnauthorizedClient(
            "this client may not use the authorization code grant".into(),
        ));
    }
    // The target is checked before the code is spent.
    let requested = app.resources.target(request.resource.as_deref()).await??;
    // What this redemption will issue is named before the code is taken,
    // and recorded in the same atomic step (see `code::take`).
    let jti = crate::crypto::random_token();
    let family_id = crate::crypto::new_id();
    let access_exp = now + app.config.access_token_ttl_secs;
    let redemption = Redemption {
        family_id: Some(family_id.clone()),
        access_jti: jti.clone(),
        access_exp,
    };
    let Some(grant) = code::take(&app.ephemeral, presented, &redemption, now).await? else {
        revoke_earlier_redemption(app, presented, now).await?;
        return Err(OAuthError::invalid_grant(
            "the authorization code is invalid, expired or already used",
        ));
    };
    // From here on the code is spent, whatever the outcome.
    if grant.client_id != client.client_id {
        return Err(OAuthError::invalid_grant(
            "the code was issued to another client",
        ));
    }
    if grant.expires_at <= now {
        return Err(OAuthError::invalid_grant(
            "the authorization code has expired",
        ));
    }
    if request.redirect_uri.as_deref() != Some(grant.redirect_uri.as_str()) {
        return Err(OAuthError::invalid_grant(
            "redirect_uri does not match the authorization request",
        ));
    }
    match (&grant.code_challenge, request.code_verifier.as_deref()) {
        (Some(challenge), Some(verifier)) if pkce::verify_s256(challenge, verifier) => {}
        (Some(_), Some(_)) => return Err(OAuthError::invalid_grant("PKCE verification failed")),
        (Some(_), None) => return Err(OAuthError::invalid_grant("code_verifier is required")),
        // A verifier for a code issued without a challenge is a downgrade attempt.
        (None, Some(_)) => {
            return Err(OAuthError::invalid_grant(
                "code_verifier sent, but the request had no code_challenge",
            ))
        }
        (None, None) if client.is_public() => {
            return Err(OAuthError::invalid_grant("public clients must use PKCE"))
        }
        (None, None) => {}
    }
    require_active_user(app, &grant.user_id).await?;
    // RFC 8707 2.2: the token request may name the resource the
    // authorization request named, or one when it named none.
    let resource = match (requested, &grant.resource) {
        (Some(asked), Some(granted)) if &asked != granted => {
            return Err(OAuthError::InvalidTarget(
                "the resource differs from the authorization request's".into(),
            ))
        }
        (Some(asked), _) => Some(asked),
        (None, granted) => granted.clone(),
    };

    let issue_refresh = client.allows_grant(GrantType::RefreshToken);

    let user_grant = UserGrant {
        user_id: &grant.user_id,
        scopes: &grant.scopes,
        auth_time: grant.auth_time,
        amr: &grant.amr,
        acr: &grant.acr,
        sid: &grant.sid,
        nonce: grant.nonce.as_deref(),
        jti,
        grant_id: &family_id,
        resource: resource.as_deref(),
    };
    let (access_token, exp, id_token) = sign_user_tokens(app, client, &user_grant, now)?;
    let family = Family {
        id: family_id.clone(),
        client_id: client.client_id.clone(),
        user_id: grant.user_id.clone(),
        scopes: grant.scopes.clone(),
        auth_time: grant.auth_time,
        amr: grant.amr.clone(),
        acr: grant.acr.clone(),
        sid: grant.sid.clone(),
        created_at: now,
        resource: resource.clone(),
    };
    let refresh_token = refresh::start_family(
        &app.db,
        &family,
        issue_refresh.then_some(
            app.config
                .refresh_token_ttl_secs
                .min(app.config.refresh_token_max_lifetime_secs),
        ),
        now,
    )
    .await?;
    // A replay may have come while this redemption was in flight, before
    // the grant existed to be revoked: it took the record, so revoke here.
    // (Either this check sees the record gone, or the replay came after the
    // grant was stored and revoked it itself.)
    if !code::redemption_untouched(&app.ephemeral, presented).await? {
        refresh::revoke_family(&app.db, &family_id, now).await?;
        return Err(OAuthError::invalid_grant(
            "the authorization code was presented twice",
        ));
    }
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: exp - now,
        refresh_token,
        id_token,
        scope: scope::join(&grant.scopes),
    })
}

async fn revoke_earlier_redemption(app: &App, presented: &str, now: i64) -> Result<(), OAuthError> {
    if let Some(earlier) = code::take_redemption(&app.ephemeral, presented).await? {
        tracing::warn!("authorization code replayed: revoking the tokens it issued");
        let event = Event::new(EventKind::CodeReplayed)
            .detail(serde_json::json!({ "family": earlier.family_id, "jti": earlier.access_jti }));
        audit::record(&app.db, event, now).await;
        access_token::deny(&app.ephemeral, &earlier.access_jti, earlier.access_exp, now).await?;
        if let Some(family) = earlier.family_id {
            refresh::revoke_family(&app.db, &family, now).await?;
        }
    }
    Ok(())
}
