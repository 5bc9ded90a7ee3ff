//! GET/POST /login: the password form of a pending authorization.

use super::cookies;
use super::error::{
    form_status, html_then, internal_page, refusal_page, see_other, FormOutcome, PageRefusal,
};
use super::form;
use super::pages::{self, LoginPage};
use crate::accounts::{authenticate, LoginError};
use crate::crypto::{constant_time_eq, secret_hash};
use crate::oauth::authorize::{self, PendingAuthorization};
use crate::signin::{self, Proof};
use crate::App;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

/// Loads the pending request named by `req` and checks that this browser
/// started it; `Err` is the page to show.
pub(super) async fn pending_for_browser(
    app: &App,
    req: &HttpRequest,
    id: Option<&str>,
) -> Result<PendingAuthorization, HttpResponse> {
    let expired = || {
        refusal_page(PageRefusal::Refused {
            title: "This page has expired",
            message: "Start signing in again from the application.",
        })
    };
    let Some(id) = id else {
        return Err(expired());
    };
    let pending = match authorize::load(&app.ephemeral, id).await {
        Ok(Some(p)) => p,
        Ok(None) => return Err(expired()),
        Err(e) => return Err(internal_page(&e)),
    };
    let bound = cookies::read(app, req, cookies::Name::Flow)
        .map(|c| {
            constant_time_eq(
                secret_hash(&c).as_bytes(),
                pending.browser_binding.as_bytes(),
            )
        })
        .unwrap_or(false);
    if !bound {
        return Err(refusal_page(PageRefusal::Refused {
            title: "This sign-in was started elsewhere",
            message: "Start signing in again from the application, in this browser.",
        }));
    }
    Ok(pending)
}

async fn client_name(app: &App, client_id: &str) -> String {
    if client_id.is_empty() {
        return "your account".into();
    }
    match app.clients.get(client_id).await {
        Ok(Some(c)) => c.name,
        _ => client_id.to_string(),
    }
}

pub async fn get(app: web::Data<App>, req: HttpRequest) -> HttpResponse {
    let params = match form::query(&req) {
        Ok(p) => p,
        Err(e) => return refusal_page(PageRefusal::Malformed(&e)),
    };
    let pending = match pending_for_browser(&app, &req, params.get("req")).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    let name = client_name(&app, &pending.client_id).await;
    html_then(
        form_status(FormOutcome::Shown),
        pages::login(&LoginPage {
            request_id: &pending.id,
            csrf_token: &pending.csrf_token,
            client_name: &name,
            username: pending.login_hint.as_deref().unwrap_or(""),
            error: None,
            passkeys: app.passkeys.enabled(),
            passkey_only: pending.required_acr.is_some() || pending.password_step.is_some(),
        }),
        Some(&pending.redirect_uri),
    )
}

pub async fn post(app: web::Data<App>, req: HttpRequest, body: web::Payload) -> HttpResponse {
    let now = crate::clock::now();
    let mut params = match form::post_form(&req, body, app.config.max_body_bytes).await {
        Ok(p) => p,
        Err(e) => return refusal_page(PageRefusal::Malformed(&e)),
    };
    let pending = match pending_for_browser(&app, &req, params.get("req")).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    let csrf_ok = params
        .get("csrf_token")
        .is_some_and(|t| constant_time_eq(t.as_bytes(), pending.csrf_token.as_bytes()));
    if !csrf_ok {
        return refusal_page(PageRefusal::Unverified {
            message: "Reload the sign-in page and try again.",
        });
    }
    let username = params.take("username").unwrap_or_default();
    let password = params.take("password").unwrap_or_default();
    let ip = super::client_ip::client_ip(&app, &req);
    let name = client_name(&app, &pending.client_id).await;
    let form_again = |outcome: FormOutcome, message: &str| {
        html_then(
            form_status(outcome),
            pages::login(&LoginPage {
                request_id: &pending.id,
                csrf_token: &pending.csrf_token,
                client_name: &name,
                username: &username,
                error: Some(message),
                passkeys: app.passkeys.enabled(),
                passkey_only: pending.required_acr.is_some() || pending.password_step.is_some(),
            }),
            Some(&pending.redirect_uri),
        )
    };
    if pending.required_acr.is_some() {
        return form_again(
            FormOutcome::Incomplete,
            "This application requires a passkey; a password is not enough.",
        );
    }
    if username.trim().is_empty() || username.len() > 256 || password.is_empty() {
        return form_again(FormOutcome::Incomplete, "Enter your username and password.");
    }
    let user = match authenticate(&app.users, &app.throttle, &username, &password, &ip, now).await {
        Ok(user) => user,
        Err(LoginError::InvalidCredentials) => {
            app.metrics.login(false);
            tracing::info!(client_id = %pending.client_id, outcome = "invalid_credentials", "login failed");
            return form_again(
                FormOutcome::WrongCredentials,
                "Invalid username or password.",
            );
        }
        Err(LoginError::Throttled { retry_after }) => {
            app.metrics.login(false);
            let mut response = form_again(
                FormOutcome::Throttled,
                "Too many failed attempts. Wait a moment and try again.",
            );
            if let Ok(value) = header::HeaderValue::from_str(&retry_after.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            return response;
        }
        Err(e) => return internal_page(&e),
    };
    if user.passkey_second_factor {
        // The password was right; the account also needs its passkey.
        let mut pending = pending.clone();
        pending.password_step = Some((user.id.clone(), now));
        if let Err(e) = authorize::save(&app.ephemeral, &pending).await {
            return internal_page(&e);
        }
        let message = if app.passkeys.enabled() {
            "Now confirm with your passkey."
        } else {
            "Your account needs a passkey, which this service cannot use now."
        };
        return html_then(
            form_status(FormOutcome::Shown),
            pages::login(&LoginPage {
                request_id: &pending.id,
                csrf_token: &pending.csrf_token,
                client_name: &name,
                username: &username,
                error: Some(message),
                passkeys: app.passkeys.enabled(),
                passkey_only: true,
            }),
            Some(&pending.redirect_uri),
        );
    }
    let previous = cookies::read(&app, &req, cookies::Name::Session);
    let proof = Proof {
        user: &user,
        amr: vec!["pwd".into()],
        method: "pwd",
        ip: &ip,
    };
    let mut pending = pending;
    let signed = match signin::complete(&app, &mut pending, proof, previous.as_deref(), now).await {
        Ok(signed) => signed,
        Err(e) => return internal_page(&e),
    };
    tracing::info!(client_id = %pending.client_id, user_id = %user.id, "login succeeded");
    let mut response = see_other(&signed.next);
    let _ = response.add_cookie(&cookies::session(&app, signed.cookie));
    response
}
