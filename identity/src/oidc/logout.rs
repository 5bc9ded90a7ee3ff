//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): end the
//! provider session, revoke the refresh tokens issued in it, and return to
//! a registered `post_logout_redirect_uri`.

use crate::audit::{self, Event, EventKind};
use crate::oauth::clients::Client;
use crate::oauth::{refresh, OAuthError};
use crate::App;

#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct LogoutParams {
    pub id_token_hint: Option<String>,
    pub client_id: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
    pub logout_hint: Option<String>,
    pub ui_locales: Option<String>,
}

/// A checked logout request.
#[derive(Debug)]
pub struct LogoutRequest {
    /// Where to send the browser afterwards (already checked), with state.
    pub redirect: Option<(String, Option<String>)>,
    /// The subject the RP believes is signed in, from a valid hint.
    pub hinted_subject: Option<String>,
}

#[derive(Debug)]
pub enum LogoutError {
    /// Shown as an error page: the redirect target cannot be trusted.
    Refused(String),
    Internal(String),
}

/// Checks the hint and the redirect URI. The hint may have expired (section
/// 2: the OP should accept it), but its signature and issuer must hold.
pub async fn check(
    app: &App,
    params: &LogoutParams,
    now: i64,
) -> Result<LogoutRequest, LogoutError> {
    let mut client_id = params.client_id.clone().filter(|c| !c.is_empty());
    let mut hinted_subject = None;
    if let Some(hint) = params.id_token_hint.as_deref().filter(|h| !h.is_empty()) {
        let verified = app.keys.ring().verify(hint, now, true).map_err(|_| {
            LogoutError::Refused(
                "The id_token_hint is not a valid ID token from this provider.".into(),
            )
        })?;
        let claims = verified.claims;
        if claims.get("iss").and_then(|v| v.as_str()) != Some(app.issuer.as_str())
            || verified.typ.as_deref() == Some(crate::oauth::access_token::TYP)
        {
            return Err(LogoutError::Refused(
                "The id_token_hint was not issued by this provider.".into(),
            ));
        }
        let aud = claims.get("aud").and_then(|v| v.as_str()).map(String::from);
        if client_id.is_some() && aud.is_some() && client_id != aud {
            return Err(LogoutError::Refused(
                "client_id does not match the id_token_hint.".into(),
            ));
        }
        client_id = client_id.or(aud);
        hinted_subject = claims.get("sub").and_then(|v| v.as_str()).map(String::from);
    }
    let redirect = match params
        .post_logout_redirect_uri
        .as_deref()
        .filter(|u| !u.is_empty())
    {
        None => None,
        Some(uri) => {
            let client: Option<Client> = match &client_id {
                Some(id) => app
                    .clients
                    .get(id)
                    .await
                    .map_err(|e| LogoutError::Internal(e.to_string()))?,
                None => None,
            };
            match client {
                Some(c) if c.has_post_logout_redirect_uri(uri) => {
                    Some((uri.to_string(), params.state.clone()))
                }
                Some(_) => {
                    return Err(LogoutError::Refused(
                        "The post_logout_redirect_uri is not registered for this application."
                            .into(),
                    ))
                }
                None => {
                    return Err(LogoutError::Refused(
                        "A post_logout_redirect_uri needs an id_token_hint or client_id.".into(),
                    ))
                }
            }
        }
    };
    Ok(LogoutRequest {
        redirect,
        hinted_subject,
    })
}

/// Whether the signed-in user must confirm before the session behind
/// `cookie` ends (RP-Initiated Logout 1.0 sections 2 and 3): always, unless
/// a valid `id_token_hint` (expired or not) names that very user. A hint for
/// someone else, or none, must not let a third-party page sign people out.
/// Without a live session there is nothing to end and nothing to ask.
pub async fn must_confirm(
    app: &App,
    request: &LogoutRequest,
    cookie: &str,
    now: i64,
) -> Result<bool, OAuthError> {
    let Some(session) = app.sessions.get(cookie, now).await? else {
        return Ok(false);
    };
    Ok(request.hinted_subject.as_deref() != Some(session.user_id.as_str()))
}

/// Ends the session behind `cookie` and revokes its refresh tokens.
pub async fn end_session(app: &App, cookie: &str, now: i64) -> Result<(), OAuthError> {
    if let Some(session) = app.sessions.end(cookie).await? {
        refresh::revoke_session(&app.db, &session.sid, now).await?;
        tracing::info!(user_id = %session.user_id, "session ended");
        let event = Event::new(EventKind::SessionEnded)
            .user(&session.user_id)
            .detail(serde_json::json!({ "sid": session.sid }));
        audit::record(&app.db, event, now).await;
    }
    Ok(())
}
