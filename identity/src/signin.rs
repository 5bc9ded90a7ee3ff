//! Where every sign-in ends, whatever proved who the user is (a password, a
//! passkey, both; federation and device sign-ins later): the previous
//! session ends (a new session id at every sign-in, so no fixation), a new
//! one starts with the methods used, the sign-in is recorded, the pending
//! request remembers it happened here, and the flow's next step becomes the
//! URL the browser goes to. The session and recent-authentication rules are
//! written here once. Nothing here knows HTTP: handlers parse, call, render.

use crate::accounts::{BrowserSession, User};
use crate::audit::{self, Event, EventKind};
use crate::oauth::authorize::{self, PendingAuthorization};
use crate::oauth::flow::{self, Step};
use crate::oauth::OAuthError;
use crate::passkeys::PasskeyStoreError;
use crate::App;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum SigninError {
    /// The passkey confirming a password step is another account's.
    #[error("this passkey belongs to another account")]
    WrongAccount,
    #[error(transparent)]
    OAuth(#[from] OAuthError),
}

/// Who signed in and how (RFC 8176 methods).
#[derive(Debug, Clone)]
pub struct Proof<'a> {
    pub user: &'a User,
    pub amr: Vec<String>,
    /// For the audit log: `pwd`, `passkey`, `pwd+passkey`.
    pub method: &'static str,
    /// The client address, for the audit log.
    pub ip: &'a str,
}

/// A finished sign-in: the new session, its cookie, and the next URL.
#[derive(Debug)]
pub struct SignedIn {
    pub cookie: String,
    pub session: BrowserSession,
    pub next: String,
}

/// The one function every browser sign-in ends in.
pub async fn complete(
    app: &App,
    pending: &mut PendingAuthorization,
    proof: Proof<'_>,
    previous_cookie: Option<&str>,
    now: i64,
) -> Result<SignedIn, SigninError> {
    if let Some(old) = previous_cookie {
        crate::oidc::logout::end_session(app, old, now).await?;
    }
    let (cookie, session) = app
        .sessions
        .start(proof.user, proof.amr.clone(), now)
        .await
        .map_err(OAuthError::from)?;
    let event = Event::new(EventKind::LoginSucceeded)
        .user(&proof.user.id)
        .detail(json!({ "method": proof.method, "amr": proof.amr, "ip": proof.ip }));
    let event = match pending.client_id.as_str() {
        "" => event,
        client => event.client(client),
    };
    audit::record(&app.db, event, now).await;
    app.metrics.login(true);
    pending.logged_in_here = true;
    authorize::save(&app.ephemeral, pending)
        .await
        .map_err(OAuthError::from)?;
    let step = flow::proceed(app, pending, Some(&session), false, now).await?;
    Ok(SignedIn {
        cookie,
        session,
        next: next_url(&step, pending),
    })
}

/// The next step of a pending request as the URL the browser goes to.
pub fn next_url(step: &Step, pending: &PendingAuthorization) -> String {
    match step {
        Step::Redirect(url) => url.clone(),
        Step::ShowLogin => format!("/login?req={}", pending.id),
        Step::ShowConsent => format!("/consent?req={}", pending.id),
    }
}

/// The methods of a sign-in finished with a passkey: after a password step
/// (the account's second factor) the passkey must be that account's, and
/// the sign-in used both methods and more than one factor.
pub fn passkey_methods(
    pending: &PendingAuthorization,
    passkey_user_id: &str,
    passkey_amr: &[String],
) -> Result<(Vec<String>, &'static str), SigninError> {
    let mut amr = passkey_amr.to_vec();
    let Some((password_user, _)) = &pending.password_step else {
        return Ok((amr, "passkey"));
    };
    if password_user != passkey_user_id {
        return Err(SigninError::WrongAccount);
    }
    amr.insert(0, "pwd".into());
    if !amr.iter().any(|m| m == "mfa") {
        amr.push("mfa".into());
    }
    Ok((amr, "pwd+passkey"))
}

/// Users remove one of their own passkeys in a signed-in browser: like any
/// credential change this ends their other sessions and grants, while the
/// session that did it, where they just proved who they are, goes on under
/// a new cookie in the new session generation. The new cookie, if the
/// session still existed.
pub async fn remove_own_passkey(
    app: &App,
    cookie: &str,
    user_id: &str,
    passkey_id: &str,
    now: i64,
) -> Result<Option<String>, PasskeyStoreError> {
    let generation = app
        .passkeys
        .passkeys()
        .remove(user_id, passkey_id, now)
        .await?;
    Ok(app.sessions.reissue(cookie, generation, now).await?)
}

/// Whether an authentication at `auth_time` is recent enough to add or
/// remove a credential (`passkey_recent_auth_secs`).
pub fn is_recent(app: &App, auth_time: i64, now: i64) -> bool {
    now - auth_time <= app.config.passkey_recent_auth_secs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(password_step: Option<(String, i64)>) -> PendingAuthorization {
        let mut p = authorize::internal("/account", "b", false, 0);
        p.password_step = password_step;
        p
    }

    #[test]
    fn a_passkey_alone_is_its_own_methods() {
        let (amr, method) =
            passkey_methods(&pending(None), "u1", &["hwk".into(), "user".into()]).expect("methods");
        assert_eq!(amr, vec!["hwk", "user"]);
        assert_eq!(method, "passkey");
    }

    #[test]
    fn a_second_factor_adds_the_password_and_mfa_once() {
        let p = pending(Some(("u1".into(), 0)));
        let (amr, method) =
            passkey_methods(&p, "u1", &["swk".into(), "user".into()]).expect("methods");
        assert_eq!(amr, vec!["pwd", "swk", "user", "mfa"]);
        assert_eq!(method, "pwd+passkey");
        let (amr, _) = passkey_methods(&p, "u1", &["hwk".into(), "mfa".into()]).expect("methods");
        assert_eq!(amr.iter().filter(|m| *m == "mfa").count(), 1);
    }

    #[test]
    fn another_accounts_passkey_does_not_confirm_a_password() {
        let p = pending(Some(("u1".into(), 0)));
        assert!(matches!(
            passkey_methods(&p, "u2", &["hwk".into()]),
            Err(SigninError::WrongAccount)
        ));
    }

    #[test]
    fn next_steps_become_urls() {
        let p = pending(None);
        assert_eq!(
            next_url(&Step::ShowLogin, &p),
            format!("/login?req={}", p.id)
        );
        assert_eq!(
            next_url(&Step::ShowConsent, &p),
            format!("/consent?req={}", p.id)
        );
        assert_eq!(
            next_url(&Step::Redirect("https://rp/cb?code=x".into()), &p),
            "https://rp/cb?code=x"
        );
    }
}
