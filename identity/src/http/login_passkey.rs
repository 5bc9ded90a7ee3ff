//! Passkey sign-in from the login page (the script in assets/passkeys.js):
//! JSON in and out, bound to the pending request and the browser that
//! started it, CSRF-checked like the password form.

use super::cookies;
use super::error::ceremony_error;
use super::error::{no_store_json, oauth_json, script_refusal, signin_json, ScriptRefusal};
use super::form;
use super::login::pending_for_browser;
use crate::crypto::constant_time_eq;
use crate::oauth::authorize::PendingAuthorization;
use crate::signin::{self, Proof};
use crate::App;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use webauthn_rs::prelude::PublicKeyCredential;

/// The asset the login page loads (script-src 'self').
pub async fn script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(include_str!("assets/passkeys.js"))
}

fn binding(pending: &PendingAuthorization) -> String {
    format!("browser:{}:{}", pending.browser_binding, pending.id)
}

/// Checks the pending request, the browser binding and the CSRF token.
async fn checked(
    app: &App,
    req: &HttpRequest,
    id: &str,
    csrf: &str,
) -> Result<PendingAuthorization, HttpResponse> {
    let pending = pending_for_browser(app, req, Some(id))
        .await
        .map_err(|_| script_refusal(ScriptRefusal::PageExpired))?;
    if !constant_time_eq(csrf.as_bytes(), pending.csrf_token.as_bytes()) {
        return Err(script_refusal(ScriptRefusal::Unverified));
    }
    Ok(pending)
}

#[derive(Deserialize)]
struct StartBody {
    req: String,
    csrf_token: String,
}

pub async fn start(app: web::Data<App>, req: HttpRequest, body: web::Payload) -> HttpResponse {
    let body: StartBody = match form::json_body(&req, body, app.config.max_body_bytes).await {
        Ok(b) => b,
        Err(e) => return oauth_json(&e),
    };
    let pending = match checked(&app, &req, &body.req, &body.csrf_token).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    // After the password step the challenge names that account's passkeys;
    // before it, a typed username changes nothing (no account enumeration).
    let known_user = pending.password_step.as_ref().map(|(id, _)| id.as_str());
    match app
        .passkeys
        .start_authentication(known_user, &binding(&pending))
        .await
    {
        Ok(started) => super::error::no_store_json(&started),
        Err(e) => ceremony_error(&e),
    }
}

#[derive(Deserialize)]
struct FinishBody {
    req: String,
    csrf_token: String,
    ceremony_id: String,
    credential: PublicKeyCredential,
}

pub async fn finish(app: web::Data<App>, req: HttpRequest, body: web::Payload) -> HttpResponse {
    let now = crate::clock::now();
    let body: FinishBody = match form::json_body(&req, body, app.config.max_body_bytes).await {
        Ok(b) => b,
        Err(e) => return oauth_json(&e),
    };
    let mut pending = match checked(&app, &req, &body.req, &body.csrf_token).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    let login = match app
        .passkeys
        .finish_authentication(&body.ceremony_id, &binding(&pending), &body.credential, now)
        .await
    {
        Ok(login) => login,
        Err(e) => {
            app.metrics.login(false);
            return ceremony_error(&e);
        }
    };
    let (amr, method) = match signin::passkey_methods(&pending, &login.user.id, &login.amr) {
        Ok(methods) => methods,
        Err(e) => {
            app.metrics.login(false);
            return signin_json(&e);
        }
    };
    let previous = cookies::read(&app, &req, cookies::Name::Session);
    let ip = super::client_ip::client_ip(&app, &req);
    let proof = Proof {
        user: &login.user,
        amr,
        method,
        ip: &ip,
    };
    let signed = match signin::complete(&app, &mut pending, proof, previous.as_deref(), now).await {
        Ok(signed) => signed,
        Err(e) => return signin_json(&e),
    };
    let mut response = no_store_json(&json!({ "location": signed.next }));
    let _ = response.add_cookie(&cookies::session(&app, signed.cookie));
    response
}
