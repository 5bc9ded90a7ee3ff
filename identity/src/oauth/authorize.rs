//! The authorization endpoint's rules (RFC 6749 4.1.1, OIDC Core 3.1.2,
//! RFC 7636, RFC 9700). Validation happens in two stages: first the client
//! and redirect URI — errors there must not redirect (an attacker could
//! send the user anywhere) — then everything else, whose errors go back to
//! the client's registered redirect URI.

use super::clients::{Client, Clients, GrantType};
use super::{pkce, scope, OAuthError};
use crate::accounts::BrowserSession;
use crate::crypto::random_token;
use crate::store::{Ephemeral, Key, StoreError};
use serde::{Deserialize, Serialize};

/// How long a user has to finish the login and consent pages.
pub const PENDING_TTL_SECS: i64 = 600;

/// The request parameters, as sent.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct AuthorizeParams {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
    pub login_hint: Option<String>,
    pub acr_values: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub response_mode: Option<String>,
    pub request: Option<String>,
    pub request_uri: Option<String>,
    /// RFC 8707: the resource server the tokens are for.
    pub resource: Option<String>,
}

/// Why a request was refused.
#[derive(Debug)]
pub enum Refusal {
    /// Client or redirect URI cannot be trusted: show an error page.
    Unsafe(String),
    /// Send the error to the client's redirect URI.
    Redirect(RedirectError),
    Internal(StoreError),
}

#[derive(Debug, Clone)]
pub struct RedirectError {
    pub redirect_uri: String,
    pub state: Option<String>,
    pub error: OAuthError,
}

/// A validated request, kept in the ephemeral store while the user signs
/// in and consents. `browser_binding` ties it to the browser that started
/// it (the hash of the `tessera_flow` cookie), so a login form posted from
/// another browser (login CSRF) is refused.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingAuthorization {
    pub id: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub prompt_none: bool,
    pub prompt_login: bool,
    pub prompt_consent: bool,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    /// Phishing-resistant authentication the client asked for with
    /// `acr_values`: `phr` (any passkey) or `phrh` (a device-bound one).
    #[serde(default)]
    pub required_acr: Option<String>,
    pub code_challenge: Option<String>,
    pub csrf_token: String,
    pub browser_binding: String,
    pub created_at: i64,
    /// Set when the user signed in on this request's login page: that
    /// login satisfies `prompt=login`, and the `acr` is "1".
    #[serde(default)]
    pub logged_in_here: bool,
    /// A sign-in for the provider's own pages (the account page): no
    /// client, no code; after login the browser returns to this path.
    #[serde(default)]
    pub internal_return: Option<String>,
    /// Set when the password was right but the account requires a passkey
    /// too: the user id and when the password was checked.
    #[serde(default)]
    pub password_step: Option<(String, i64)>,
    /// The registered resource server the tokens are for (RFC 8707).
    #[serde(default)]
    pub resource: Option<String>,
}

impl PendingAuthorization {
    pub fn refuse(&self, error: OAuthError) -> RedirectError {
        RedirectError {
            redirect_uri: self.redirect_uri.clone(),
            state: self.state.clone(),
            error,
        }
    }
}

fn one(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

/// Validates a request from a browser whose flow cookie hashes to
/// `browser_binding`.
pub async fn validate(
    clients: &Clients,
    resources: &super::resources::Resources,
    params: &AuthorizeParams,
    browser_binding: &str,
    now: i64,
) -> Result<(PendingAuthorization, Client), Refusal> {
    let client_id = one(&params.client_id)
        .ok_or_else(|| Refusal::Unsafe("The request has no client_id.".into()))?;
    let client = clients
        .get(client_id)
        .await
        .map_err(Refusal::Internal)?
        .ok_or_else(|| Refusal::Unsafe("The application (client_id) is not known here.".into()))?;
    // OIDC Core 3.1.2.1: redirect_uri is required, and must match exactly.
    let redirect_uri = one(&params.redirect_uri)
        .ok_or_else(|| Refusal::Unsafe("The request has no redirect_uri.".into()))?;
    if !client.has_redirect_uri(redirect_uri) {
        return Err(Refusal::Unsafe(
            "The redirect_uri is not registered for this application.".into(),
        ));
    }
    let refuse = |error: OAuthError| {
        Refusal::Redirect(RedirectError {
            redirect_uri: redirect_uri.to_string(),
            state: params.state.clone(),
            error,
        })
    };
    let invalid = |text: &str| refuse(OAuthError::invalid_request(text));

    match one(&params.response_type) {
        None => return Err(invalid("response_type is required")),
        Some("code") => {}
        Some(_) => {
            return Err(refuse(OAuthError::UnsupportedResponseType(
                "only response_type=code is supported".into(),
            )))
        }
    }
    if !client.allows_grant(GrantType::AuthorizationCode) {
        return Err(refuse(OAuthError::UnauthorizedClient(
            "this client may not use the authorization code grant".into(),
        )));
    }
    if let Some(mode) = one(&params.response_mode) {
        if mode != "query" {
            return Err(invalid("only response_mode=query is supported"));
        }
    }
    if params.request.is_some() {
        return Err(refuse(OAuthError::InvalidRequest(
            "request objects are not supported".into(),
        )));
    }
    if params.request_uri.is_some() {
        return Err(refuse(OAuthError::InvalidRequest(
            "request_uri is not supported".into(),
        )));
    }

    let scopes = scope::parse(one(&params.scope).unwrap_or(""));
    if scopes.is_empty() {
        return Err(refuse(OAuthError::InvalidScope("scope is required".into())));
    }
    if let Some(bad) = scopes.iter().find(|s| !client.scopes.contains(s)) {
        return Err(refuse(OAuthError::InvalidScope(format!(
            "scope `{bad}` is not allowed for this client"
        ))));
    }

    // PKCE: S256 only; required for public clients (RFC 9700 2.1.1).
    let code_challenge = match (
        one(&params.code_challenge),
        one(&params.code_challenge_method),
    ) {
        (None, None) if client.is_public() => {
            return Err(invalid(
                "PKCE is required: send code_challenge with method S256",
            ))
        }
        (None, None) => None,
        (None, Some(_)) => return Err(invalid("code_challenge_method without code_challenge")),
        (Some(_), Some(method)) if method != "S256" => {
            return Err(invalid("code_challenge_method must be S256"))
        }
        // RFC 7636 4.3: a missing method means plain, which is refused.
        (Some(_), None) => return Err(invalid("code_challenge_method must be S256")),
        (Some(challenge), Some(_)) => {
            if !pkce::is_well_formed(challenge) || challenge.len() != 43 {
                return Err(invalid("code_challenge is not a base64url SHA-256"));
            }
            Some(challenge.to_string())
        }
    };

    let prompts: Vec<&str> = one(&params.prompt)
        .map(|p| p.split(' ').filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    if let Some(bad) = prompts
        .iter()
        .find(|p| !["none", "login", "consent"].contains(p))
    {
        return Err(invalid(&format!("prompt `{bad}` is not supported")));
    }
    let prompt_none = prompts.contains(&"none");
    if prompt_none && prompts.len() > 1 {
        return Err(invalid("prompt=none cannot be combined with other values"));
    }
    let max_age = match one(&params.max_age) {
        None => None,
        Some(text) => Some(
            text.parse::<i64>()
                .ok()
                .filter(|v| *v >= 0)
                .ok_or_else(|| invalid("max_age must be a non-negative number of seconds"))?,
        ),
    };
    if scope::contains(&scopes, "openid") && one(&params.nonce).is_some_and(|n| n.len() > 512) {
        return Err(invalid("nonce is too long"));
    }
    if params.state.as_deref().is_some_and(|s| s.len() > 2048) {
        return Err(invalid("state is too long"));
    }
    let resource = resources
        .target(params.resource.as_deref())
        .await
        .map_err(Refusal::Internal)?
        .map_err(refuse)?;

    let pending = PendingAuthorization {
        id: random_token(),
        client_id: client.client_id.clone(),
        redirect_uri: redirect_uri.to_string(),
        scopes,
        state: params.state.clone(),
        nonce: params.nonce.clone().filter(|n| !n.is_empty()),
        prompt_none,
        prompt_login: prompts.contains(&"login"),
        prompt_consent: prompts.contains(&"consent"),
        max_age,
        login_hint: params.login_hint.clone().filter(|h| h.len() <= 256),
        required_acr: required_acr(params.acr_values.as_deref()),
        code_challenge,
        csrf_token: random_token(),
        browser_binding: browser_binding.to_string(),
        created_at: now,
        logged_in_here: false,
        internal_return: None,
        password_step: None,
        resource,
    };
    Ok((pending, client))
}

/// The weakest phishing-resistant level among the requested `acr_values`
/// (they are in order of preference, so the weakest listed is what the
/// client accepts); other values are voluntary and ignored (OIDC Core
/// 3.1.2.1).
pub fn required_acr(acr_values: Option<&str>) -> Option<String> {
    let values: Vec<&str> = acr_values.unwrap_or("").split(' ').collect();
    if values.contains(&"phr") {
        Some("phr".into())
    } else if values.contains(&"phrh") {
        Some("phrh".into())
    } else {
        None
    }
}

/// Whether a session's methods meet a required level: `phr` needs a
/// passkey (`hwk` or `swk`), `phrh` a hardware-bound one (`hwk`).
pub fn satisfies(amr: &[String], required: Option<&str>) -> bool {
    let has = |m: &str| amr.iter().any(|a| a == m);
    match required {
        None => true,
        Some("phrh") => has("hwk"),
        Some(_) => has("hwk") || has("swk"),
    }
}

/// The `acr` of an ID token for a session: `phrh`/`phr` for passkey
/// sessions, else `1` for an authentication during this request and `0`
/// for single sign-on from an earlier one.
pub fn acr_for(amr: &[String], logged_in_here: bool) -> &'static str {
    if satisfies(amr, Some("phrh")) {
        "phrh"
    } else if satisfies(amr, Some("phr")) {
        "phr"
    } else if logged_in_here {
        "1"
    } else {
        "0"
    }
}

/// A sign-in for the provider's own page at `return_to`, bound to the
/// browser; `prompt_login` asks for the password (or passkey) again.
pub fn internal(
    return_to: &str,
    browser_binding: &str,
    prompt_login: bool,
    now: i64,
) -> PendingAuthorization {
    PendingAuthorization {
        id: random_token(),
        client_id: String::new(),
        redirect_uri: return_to.to_string(),
        scopes: Vec::new(),
        state: None,
        nonce: None,
        resource: None,
        prompt_none: false,
        prompt_login,
        prompt_consent: false,
        max_age: None,
        login_hint: None,
        required_acr: None,
        code_challenge: None,
        csrf_token: random_token(),
        browser_binding: browser_binding.to_string(),
        created_at: now,
        logged_in_here: false,
        internal_return: Some(return_to.to_string()),
        password_step: None,
    }
}

/// What to do with a validated request given the browser's session.
#[derive(Debug, PartialEq, Eq)]
pub enum NextStep {
    Login,
    Consent,
    Issue,
    Refuse(OAuthError),
}

/// OIDC Core 3.1.2.3: re-authenticate for prompt=login (unless the user
/// signed in during this very request) and when `max_age` has passed; ask
/// consent for third-party clients without remembered consent covering
/// the scopes, and for any client with prompt=consent; with prompt=none
/// never show a page.
pub fn next_step(
    pending: &PendingAuthorization,
    session: Option<&BrowserSession>,
    first_party: bool,
    consented: Option<&[String]>,
    consented_now: bool,
    now: i64,
) -> NextStep {
    let fresh_login = session.is_some() && pending.logged_in_here;
    let needs_login = match session {
        None => true,
        Some(s) => {
            (pending.prompt_login && !fresh_login)
                || pending.max_age.is_some_and(|max| now - s.auth_time > max)
                || !satisfies(&s.amr, pending.required_acr.as_deref())
        }
    };
    if needs_login {
        return if pending.prompt_none {
            NextStep::Refuse(OAuthError::LoginRequired)
        } else {
            NextStep::Login
        };
    }
    let remembered = consented.is_some_and(|c| scope::covers(c, &pending.scopes));
    // prompt=consent asks every client, first-party ones included (OIDC
    // Core 3.1.2.1: "SHOULD prompt the End-User for consent").
    let needs_consent = !consented_now && (pending.prompt_consent || (!first_party && !remembered));
    if needs_consent {
        return if pending.prompt_none {
            NextStep::Refuse(OAuthError::ConsentRequired)
        } else {
            NextStep::Consent
        };
    }
    NextStep::Issue
}

pub async fn save(store: &Ephemeral, pending: &PendingAuthorization) -> Result<(), StoreError> {
    store
        .put_json(
            Key::AuthorizationRequest(&pending.id),
            pending,
            PENDING_TTL_SECS,
        )
        .await
}

pub async fn load(store: &Ephemeral, id: &str) -> Result<Option<PendingAuthorization>, StoreError> {
    if id.is_empty() || id.len() > 64 {
        return Ok(None);
    }
    store.get_json(Key::AuthorizationRequest(id)).await
}

/// Removes the pending request once a code (or an error) was sent.
pub async fn finish(store: &Ephemeral, id: &str) -> Result<(), StoreError> {
    store.delete(Key::AuthorizationRequest(id)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending() -> PendingAuthorization {
        PendingAuthorization {
            id: "r".into(),
            client_id: "c".into(),
            redirect_uri: "https://app.example/cb".into(),
            scopes: vec!["openid".into(), "email".into()],
            state: None,
            nonce: None,
            prompt_none: false,
            prompt_login: false,
            prompt_consent: false,
            max_age: None,
            login_hint: None,
            required_acr: None,
            code_challenge: None,
            csrf_token: "t".into(),
            browser_binding: "b".into(),
            created_at: 1000,
            logged_in_here: false,
            internal_return: None,
            password_step: None,
            resource: None,
        }
    }

    fn session(auth_time: i64) -> BrowserSession {
        BrowserSession {
            sid: "s".into(),
            user_id: "u".into(),
            auth_time,
            amr: vec!["pwd".into()],
            expires_at: i64::MAX,
            generation: 0,
        }
    }

    #[test]
    fn without_session_login_or_login_required() {
        let mut p = pending();
        assert_eq!(
            next_step(&p, None, true, None, false, 1000),
            NextStep::Login
        );
        p.prompt_none = true;
        assert_eq!(
            next_step(&p, None, true, None, false, 1000),
            NextStep::Refuse(OAuthError::LoginRequired)
        );
    }

    #[test]
    fn prompt_login_and_max_age_force_a_new_login() {
        let mut p = pending();
        p.prompt_login = true;
        assert_eq!(
            next_step(&p, Some(&session(900)), true, None, false, 1000),
            NextStep::Login
        );
        // A login in the same second does not count unless it happened here.
        assert_eq!(
            next_step(&p, Some(&session(1000)), true, None, false, 1000),
            NextStep::Login
        );
        p.logged_in_here = true;
        assert_eq!(
            next_step(&p, Some(&session(1000)), true, None, false, 1000),
            NextStep::Issue
        );
        let mut p = pending();
        p.max_age = Some(60);
        assert_eq!(
            next_step(&p, Some(&session(900)), true, None, false, 1000),
            NextStep::Login
        );
        assert_eq!(
            next_step(&p, Some(&session(950)), true, None, false, 1000),
            NextStep::Issue
        );
    }

    #[test]
    fn acr_values_ask_for_passkeys_and_password_sessions_do_not_meet_them() {
        assert_eq!(required_acr(Some("phrh phr")).as_deref(), Some("phr"));
        assert_eq!(required_acr(Some("phrh")).as_deref(), Some("phrh"));
        assert_eq!(required_acr(Some("urn:other 1")), None);
        let pwd = vec!["pwd".to_string()];
        let synced = vec!["swk".to_string(), "user".to_string()];
        let bound = vec!["hwk".to_string(), "user".to_string()];
        assert!(!satisfies(&pwd, Some("phr")));
        assert!(satisfies(&synced, Some("phr")) && !satisfies(&synced, Some("phrh")));
        assert!(satisfies(&bound, Some("phrh")));
        let mut p = pending();
        p.required_acr = Some("phr".into());
        assert_eq!(
            next_step(&p, Some(&session(1000)), true, None, false, 1000),
            NextStep::Login
        );
        p.prompt_none = true;
        assert_eq!(
            next_step(&p, Some(&session(1000)), true, None, false, 1000),
            NextStep::Refuse(OAuthError::LoginRequired)
        );
        assert_eq!(acr_for(&bound, false), "phrh");
        assert_eq!(acr_for(&synced, true), "phr");
        assert_eq!(acr_for(&pwd, true), "1");
        assert_eq!(acr_for(&pwd, false), "0");
    }

    #[test]
    fn third_party_clients_need_consent_covering_the_scopes() {
        let p = pending();
        let s = session(1000);
        let partial = vec!["openid".to_string()];
        let full = vec![
            "openid".to_string(),
            "email".to_string(),
            "profile".to_string(),
        ];
        assert_eq!(
            next_step(&p, Some(&s), false, None, false, 1000),
            NextStep::Consent
        );
        assert_eq!(
            next_step(&p, Some(&s), false, Some(&partial), false, 1000),
            NextStep::Consent
        );
        assert_eq!(
            next_step(&p, Some(&s), false, Some(&full), false, 1000),
            NextStep::Issue
        );
        assert_eq!(
            next_step(&p, Some(&s), true, None, false, 1000),
            NextStep::Issue
        );
        let mut p = pending();
        p.prompt_consent = true;
        assert_eq!(
            next_step(&p, Some(&s), false, Some(&full), false, 1000),
            NextStep::Consent
        );
        assert_eq!(
            next_step(&p, Some(&s), false, Some(&full), true, 1000),
            NextStep::Issue
        );
        p.prompt_consent = false;
        p.prompt_none = true;
        assert_eq!(
            next_step(&p, Some(&s), false, None, false, 1000),
            NextStep::Refuse(OAuthError::ConsentRequired)
        );
    }
}
