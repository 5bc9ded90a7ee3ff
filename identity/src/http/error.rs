//! The one place where domain errors become HTTP: status codes, JSON
//! bodies (RFC 6749 5.2), `WWW-Authenticate` (RFC 6750 3), `Cache-Control:
//! no-store`, and HTML error pages where a redirect would be unsafe.
//! Internal causes are logged here and never sent.

use super::pages;
use crate::oauth::passkey_login::PasskeyLoginError;
use crate::oauth::OAuthError;
use crate::passkeys::CeremonyError;
use crate::store::outage::StoreName;
use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde_json::json;

fn status_of(error: &OAuthError) -> StatusCode {
    match error {
        OAuthError::InvalidClient(_) | OAuthError::InvalidToken(_) => StatusCode::UNAUTHORIZED,
        OAuthError::InsufficientScope => StatusCode::FORBIDDEN,
        OAuthError::TemporarilyUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        OAuthError::Server(_) => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// Seconds a client is asked to wait after a 503 (RFC 9110 10.2.3).
const RETRY_AFTER_SECS: &str = "5";

fn log_internal(error: &OAuthError) {
    match error {
        OAuthError::Server(cause) => tracing::error!(%cause, "internal error"),
        OAuthError::TemporarilyUnavailable(store) => {
            tracing::warn!(store = store.as_str(), "store unavailable; answering 503")
        }
        _ => {}
    }
}

/// An error of the token, introspection or revocation endpoints.
pub fn oauth_json(error: &OAuthError) -> HttpResponse {
    log_internal(error);
    let mut response = HttpResponse::build(status_of(error));
    response
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"));
    if matches!(error, OAuthError::InvalidClient(_)) {
        // RFC 6749 5.2: 401 with the scheme the client can authenticate with.
        response.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"tessera\""));
    }
    if matches!(error, OAuthError::TemporarilyUnavailable(_)) {
        response.insert_header((header::RETRY_AFTER, RETRY_AFTER_SECS));
    }
    response.json(json!({
        "error": error.code(),
        "error_description": error.description(),
    }))
}

/// An error of a protected resource (userinfo), RFC 6750 section 3.
pub fn bearer(error: Option<&OAuthError>) -> HttpResponse {
    let Some(error) = error else {
        // No credentials at all: no error code (RFC 6750 3.1).
        return HttpResponse::Unauthorized()
            .insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"tessera\""))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish();
    };
    log_internal(error);
    let challenge = format!(
        "Bearer realm=\"tessera\", error=\"{}\", error_description=\"{}\"",
        error.code(),
        error.description().replace(['"', '\\'], "'")
    );
    let mut response = HttpResponse::build(status_of(error));
    if matches!(error, OAuthError::TemporarilyUnavailable(_)) {
        // Not a problem with the token: no challenge, a retry hint instead.
        response.insert_header((header::RETRY_AFTER, RETRY_AFTER_SECS));
    } else {
        response.insert_header((header::WWW_AUTHENTICATE, challenge));
    }
    response
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "error": error.code(), "error_description": error.description() }))
}

/// The answer to a request that failed because `store` is unreachable,
/// whatever the domain code turned the failure into: 503 with
/// `Retry-After`, as the OAuth JSON error `temporarily_unavailable` for
/// JSON endpoints and as an HTML page for pages. Never a 500.
pub fn store_unavailable(store: StoreName, json: bool) -> HttpResponse {
    if json {
        return oauth_json(&OAuthError::TemporarilyUnavailable(store));
    }
    tracing::warn!(store = store.as_str(), "store unavailable; answering 503");
    let mut response = page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Temporarily unavailable",
        "The sign-in service cannot reach its storage right now. Please try again in a moment.",
    );
    response.headers_mut().insert(
        header::RETRY_AFTER,
        header::HeaderValue::from_static(RETRY_AFTER_SECS),
    );
    response
}

/// An HTML page for errors that must not redirect.
pub fn page(status: StatusCode, title: &str, message: &str) -> HttpResponse {
    html(status, pages::error(title, message))
}

/// A server-side failure shown as a page; the cause is logged.
pub fn internal_page(cause: &dyn std::fmt::Display) -> HttpResponse {
    tracing::error!(%cause, "internal error");
    page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "The sign-in service could not complete the request.",
    )
}

/// The Content-Security-Policy of every page, before `form-action`.
const CSP: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; \
                   style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'";

/// HTML with the headers every page gets: no caching, no framing, and
/// forms that may post to this origin only.
pub fn html(status: StatusCode, body: String) -> HttpResponse {
    html_then(status, body, None)
}

/// A page whose form posts here and may then send the browser on to
/// `then` (a client's redirect URI): browsers check `form-action` on the
/// redirects that follow a submission too, so that origin is allowed as
/// well, and nothing else.
pub fn html_then(status: StatusCode, body: String, then: Option<&str>) -> HttpResponse {
    let mut form_action = String::from("'self'");
    if let Some(source) = then.and_then(source_expression) {
        form_action.push(' ');
        form_action.push_str(&source);
    }
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            format!("{CSP}; form-action {form_action}"),
        ))
        .body(body)
}

/// The CSP source expression of a redirect URI: its origin for http(s),
/// its scheme for a native app's private-use scheme (RFC 8252 7.1).
fn source_expression(uri: &str) -> Option<String> {
    let url = url::Url::parse(uri).ok()?;
    match url.scheme() {
        "http" | "https" => Some(url.origin().ascii_serialization()),
        scheme => Some(format!("{scheme}:")),
    }
}

/// A 303 to `location` (after a form POST the browser must GET).
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// A sign-in that could not be finished, for the login page's script.
pub fn signin_json(error: &crate::signin::SigninError) -> HttpResponse {
    match error {
        crate::signin::SigninError::WrongAccount => HttpResponse::Unauthorized()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(json!({ "error": "access_denied", "error_description": error.to_string() })),
        crate::signin::SigninError::OAuth(e) => oauth_json(e),
    }
}

/// A JSON answer that must not be cached (tokens, ceremony options).
pub fn no_store_json<T: serde::Serialize>(value: &T) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(value)
}

/// 405 for a method the resource does not answer, with `Allow`.
pub fn method_not_allowed(allow: &'static str) -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((header::ALLOW, allow))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({
            "error": "invalid_request",
            "error_description": format!("this endpoint answers {allow} only"),
        }))
}

/// A passkey ceremony that failed: `invalid_request` for a malformed or
/// unknown ceremony, 401 `access_denied` for a refused credential, 404 when
/// passkeys are off.
pub fn ceremony_error(e: &CeremonyError) -> HttpResponse {
    let (status, code) = match e {
        CeremonyError::UnknownCeremony
        | CeremonyError::Invalid(_)
        | CeremonyError::AlreadyRegistered => (StatusCode::BAD_REQUEST, "invalid_request"),
        CeremonyError::Rejected(_)
        | CeremonyError::PossiblyCloned
        | CeremonyError::UserUnavailable => (StatusCode::UNAUTHORIZED, "access_denied"),
        CeremonyError::Disabled => (StatusCode::NOT_FOUND, "invalid_request"),
        CeremonyError::Store(cause) => {
            tracing::error!(%cause, "internal error");
            return oauth_json(&OAuthError::Server(cause.to_string()));
        }
    };
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "error": code, "error_description": e.to_string() }))
}

/// A passkey sign-in through the API that failed.
pub fn passkey_login_error(e: &PasskeyLoginError) -> HttpResponse {
    match e {
        PasskeyLoginError::OAuth(e) => oauth_json(e),
        PasskeyLoginError::Ceremony(e) => ceremony_error(e),
    }
}

/// Why a page refuses a request it cannot continue: each kind's status is
/// chosen here, nowhere else.
#[derive(Debug, Clone, Copy)]
pub enum PageRefusal<'a> {
    /// Malformed parameters (400).
    Malformed(&'a OAuthError),
    /// A request that cannot be trusted or continued: an unknown client, an
    /// unregistered redirect URI, an expired page, another browser's sign-in
    /// (400).
    Refused { title: &'a str, message: &'a str },
    /// A form whose CSRF token does not match (403).
    Unverified { message: &'a str },
}

/// The HTML page for a refusal.
pub fn refusal_page(refusal: PageRefusal<'_>) -> HttpResponse {
    match refusal {
        PageRefusal::Malformed(e) => {
            page(StatusCode::BAD_REQUEST, "Invalid request", &e.description())
        }
        PageRefusal::Refused { title, message } => page(StatusCode::BAD_REQUEST, title, message),
        PageRefusal::Unverified { message } => page(
            StatusCode::FORBIDDEN,
            "The form could not be verified",
            message,
        ),
    }
}

/// What a form page shown again says happened: its status is chosen here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormOutcome {
    /// First shown, or shown for the next step.
    Shown,
    /// Fields missing or not allowed here (400).
    Incomplete,
    /// Wrong credentials (401).
    WrongCredentials,
    /// Too many attempts (429; the caller adds `Retry-After`).
    Throttled,
    /// The action needs a more recent sign-in (403).
    NeedsRecentSignIn,
    /// The form's CSRF token does not match (403).
    Unverified,
}

pub fn form_status(outcome: FormOutcome) -> StatusCode {
    match outcome {
        FormOutcome::Shown => StatusCode::OK,
        FormOutcome::Incomplete => StatusCode::BAD_REQUEST,
        FormOutcome::WrongCredentials => StatusCode::UNAUTHORIZED,
        FormOutcome::Throttled => StatusCode::TOO_MANY_REQUESTS,
        FormOutcome::NeedsRecentSignIn | FormOutcome::Unverified => StatusCode::FORBIDDEN,
    }
}

/// Why a page's script (login page, account page) is refused.
#[derive(Debug, Clone, Copy)]
pub enum ScriptRefusal {
    /// The sign-in page expired or belongs to another browser (400).
    PageExpired,
    /// No live session (401).
    SignInFirst,
    /// The CSRF token does not match (403).
    Unverified,
    /// The action needs a more recent sign-in (403).
    NeedsRecentSignIn,
}

pub fn script_refusal(refusal: ScriptRefusal) -> HttpResponse {
    let (status, text) = match refusal {
        ScriptRefusal::PageExpired => (
            StatusCode::BAD_REQUEST,
            "this sign-in page has expired or belongs to another browser",
        ),
        ScriptRefusal::SignInFirst => (StatusCode::UNAUTHORIZED, "sign in first"),
        ScriptRefusal::Unverified => (StatusCode::FORBIDDEN, "the form could not be verified"),
        ScriptRefusal::NeedsRecentSignIn => (
            StatusCode::FORBIDDEN,
            "confirm it is you (sign in again) first",
        ),
    };
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "error": "invalid_request", "error_description": text }))
}

/// RFC 9470: the bearer token's authentication is older than `max_age`.
pub fn insufficient_user_authentication(max_age: i64) -> HttpResponse {
    let challenge = format!(
        "Bearer realm=\"tessera\", error=\"insufficient_user_authentication\", \
         error_description=\"sign in again to manage passkeys\", max_age={max_age}"
    );
    HttpResponse::Unauthorized()
        .insert_header((header::WWW_AUTHENTICATE, challenge))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({
            "error": "insufficient_user_authentication",
            "error_description": "sign in again to manage passkeys",
        }))
}

/// `/metrics` refused: 401 with a challenge when a token is configured,
/// else 403 (only direct loopback requests may read it).
pub fn metrics_refused(token_configured: bool) -> HttpResponse {
    let mut refused = if token_configured {
        let mut r = HttpResponse::Unauthorized();
        r.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\""));
        r
    } else {
        HttpResponse::Forbidden()
    };
    refused
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "error": "forbidden" }))
}

/// 404 for a path the provider does not serve.
pub fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(json!({ "error": "not_found" }))
}
