//! Moving a pending authorization forward once the browser has (or lacks)
//! a session: show login, show consent, or issue the code and build the
//! redirect back to the client.

use super::authorize::{self, NextStep, PendingAuthorization, RedirectError};
use super::code::{self, CodeGrant};
use super::{consent, OAuthError};
use crate::accounts::BrowserSession;
use crate::App;

#[derive(Debug)]
pub enum Step {
    ShowLogin,
    ShowConsent,
    /// Redirect to the client: a code or an error, in the query.
    Redirect(String),
}

/// `consented_now`: the user just approved the consent page.
pub async fn proceed(
    app: &App,
    pending: &PendingAuthorization,
    session: Option<&BrowserSession>,
    consented_now: bool,
    now: i64,
) -> Result<Step, OAuthError> {
    if let Some(path) = &pending.internal_return {
        let signed_in = match session {
            Some(s) => app
                .users
                .by_id(&s.user_id)
                .await?
                .is_some_and(|user| s.is_live_for(&user)),
            None => false,
        };
        if !signed_in || (pending.prompt_login && !pending.logged_in_here) {
            return Ok(Step::ShowLogin);
        }
        authorize::finish(&app.ephemeral, &pending.id).await?;
        return Ok(Step::Redirect(path.clone()));
    }
    let client = app
        .clients
        .get(&pending.client_id)
        .await?
        .ok_or_else(|| OAuthError::invalid_request("the client was removed"))?;
    let remembered = match session {
        Some(s) if !client.first_party => {
            consent::granted(&app.db, &s.user_id, &client.client_id).await?
        }
        _ => None,
    };
    // A disabled user's session no longer counts, nor does one older than
    // the account's last credential change.
    let session = match session {
        Some(s) => app
            .users
            .by_id(&s.user_id)
            .await?
            .filter(|user| s.is_live_for(user))
            .map(|_| s),
        None => None,
    };
    match authorize::next_step(
        pending,
        session,
        client.first_party,
        remembered.as_deref(),
        consented_now,
        now,
    ) {
        NextStep::Login => Ok(Step::ShowLogin),
        NextStep::Consent => Ok(Step::ShowConsent),
        NextStep::Refuse(error) => {
            authorize::finish(&app.ephemeral, &pending.id).await?;
            Ok(Step::Redirect(error_redirect(
                &pending.refuse(error),
                &app.issuer,
            )))
        }
        NextStep::Issue => {
            let Some(session) = session else {
                return Ok(Step::ShowLogin);
            };
            // "1": the user authenticated during this request; "0": single
            // sign-on from an earlier authentication.
            let acr = authorize::acr_for(&session.amr, pending.logged_in_here);
            let code = issue_code(app, pending, session, acr, now).await?;
            let mut params = vec![("code", code.as_str())];
            if let Some(state) = &pending.state {
                params.push(("state", state));
            }
            params.push(("iss", &app.issuer));
            Ok(Step::Redirect(with_query(&pending.redirect_uri, &params)))
        }
    }
}

/// Issues the code of a pending request for the user of `session` and
/// forgets the request.
pub async fn issue_code(
    app: &App,
    pending: &PendingAuthorization,
    session: &BrowserSession,
    acr: &str,
    now: i64,
) -> Result<String, OAuthError> {
    let grant = CodeGrant {
        client_id: pending.client_id.clone(),
        redirect_uri: pending.redirect_uri.clone(),
        user_id: session.user_id.clone(),
        scopes: pending.scopes.clone(),
        nonce: pending.nonce.clone(),
        code_challenge: pending.code_challenge.clone(),
        auth_time: session.auth_time,
        amr: session.amr.clone(),
        acr: acr.to_string(),
        sid: session.sid.clone(),
        expires_at: now + app.config.code_ttl_secs,
        resource: pending.resource.clone(),
    };
    let code = code::issue(&app.ephemeral, &grant, app.config.code_ttl_secs).await?;
    authorize::finish(&app.ephemeral, &pending.id).await?;
    Ok(code)
}

/// The redirect carrying an authorization error (RFC 6749 4.1.2.1), with
/// `iss` (RFC 9207).
pub fn error_redirect(refusal: &RedirectError, issuer: &str) -> String {
    let description = refusal.error.description();
    let mut params = vec![
        ("error", refusal.error.code()),
        ("error_description", description.as_str()),
    ];
    if let Some(state) = &refusal.state {
        params.push(("state", state));
    }
    params.push(("iss", issuer));
    with_query(&refusal.redirect_uri, &params)
}

/// Appends query parameters to a registered redirect URI, keeping its own.
pub fn with_query(uri: &str, params: &[(&str, &str)]) -> String {
    match url::Url::parse(uri) {
        Ok(mut url) => {
            {
                let mut pairs = url.query_pairs_mut();
                for (k, v) in params {
                    pairs.append_pair(k, v);
                }
            }
            url.to_string()
        }
        Err(_) => uri.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_is_appended_and_encoded() {
        assert_eq!(
            with_query(
                "https://app.example/cb?x=1",
                &[("code", "a b"), ("state", "s&t")]
            ),
            "https://app.example/cb?x=1&code=a+b&state=s%26t"
        );
    }
}
