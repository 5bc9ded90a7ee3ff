//! Passkey sign-in for apps and H5 pages that run their own UI: the
//! authorization request travels with the ceremony, and a verified
//! assertion ends in an authorization code for the calling client, which
//! it redeems at /token with its PKCE verifier like any other code.

use super::authorize::{self, AuthorizeParams, PendingAuthorization, Refusal};
use super::{consent, flow, scope, OAuthError};
use crate::accounts::BrowserSession;
use crate::passkeys::{AuthenticationStart, CeremonyError};
use crate::store::Key;
use crate::App;
use serde::Serialize;
use webauthn_rs::prelude::PublicKeyCredential;

/// Why a passkey sign-in through the API failed.
#[derive(Debug, thiserror::Error)]
pub enum PasskeyLoginError {
    #[error(transparent)]
    OAuth(#[from] OAuthError),
    #[error(transparent)]
    Ceremony(#[from] CeremonyError),
}

fn binding(client_id: &str) -> String {
    format!("client:{client_id}")
}

/// Validates the authorization parameters as /authorize does, then starts
/// the ceremony bound to the client.
pub async fn start(
    app: &App,
    params: &AuthorizeParams,
    now: i64,
) -> Result<AuthenticationStart, PasskeyLoginError> {
    let client_id = params.client_id.clone().unwrap_or_default();
    let (pending, _client) = match authorize::validate(
        &app.clients,
        &app.resources,
        params,
        &binding(&client_id),
        now,
    )
    .await
    {
        Ok(found) => found,
        Err(Refusal::Unsafe(message)) => return Err(OAuthError::InvalidRequest(message).into()),
        Err(Refusal::Redirect(refusal)) => return Err(refusal.error.into()),
        Err(Refusal::Internal(e)) => return Err(OAuthError::from(e).into()),
    };
    let started = app
        .passkeys
        .start_authentication(None, &binding(&client_id))
        .await?;
    app.ephemeral
        .put_json(
            Key::PasskeyAuthorizationRequest(&started.ceremony_id),
            &pending,
            crate::passkeys::CEREMONY_TTL_SECS,
        )
        .await
        .map_err(OAuthError::from)?;
    Ok(started)
}

/// The code and what the client checks it against.
#[derive(Debug, Serialize)]
pub struct IssuedCode {
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    pub iss: String,
    pub redirect_uri: String,
}

/// Verifies the assertion and issues the code.
pub async fn finish(
    app: &App,
    client_id: &str,
    ceremony_id: &str,
    credential: &PublicKeyCredential,
    now: i64,
) -> Result<IssuedCode, PasskeyLoginError> {
    let login = app
        .passkeys
        .finish_authentication(ceremony_id, &binding(client_id), credential, now)
        .await?;
    let pending: PendingAuthorization = app
        .ephemeral
        .take_json(Key::PasskeyAuthorizationRequest(ceremony_id))
        .await
        .map_err(OAuthError::from)?
        .ok_or(CeremonyError::UnknownCeremony)?;
    let client = app
        .clients
        .get(&pending.client_id)
        .await
        .map_err(OAuthError::from)?
        .ok_or_else(|| OAuthError::invalid_request("the client was removed"))?;
    if !client.first_party {
        let granted = consent::granted(&app.db, &login.user.id, &client.client_id)
            .await
            .map_err(OAuthError::from)?;
        if !granted.is_some_and(|g| scope::covers(&g, &pending.scopes)) {
            return Err(OAuthError::ConsentRequired.into());
        }
    }
    let session = BrowserSession {
        sid: crate::crypto::new_id(),
        user_id: login.user.id.clone(),
        auth_time: now,
        amr: login.amr.clone(),
        expires_at: now,
        generation: login.user.session_generation,
    };
    let code = flow::issue_code(app, &pending, &session, login.acr, now).await?;
    crate::audit::record(
        &app.db,
        crate::audit::Event::new(crate::audit::EventKind::LoginSucceeded)
            .user(&login.user.id)
            .client(&client.client_id)
            .detail(serde_json::json!({ "method": "passkey", "amr": login.amr })),
        now,
    )
    .await;
    Ok(IssuedCode {
        code,
        state: pending.state,
        iss: app.issuer.clone(),
        redirect_uri: pending.redirect_uri,
    })
}
