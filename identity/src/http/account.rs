//! The account page: a signed-in customer sees, adds, renames and removes
//! passkeys. Adding and removing need a sign-in within the last five
//! minutes; the CSRF token is derived from the session cookie.

use super::cookies;
use super::error::ceremony_error;
use super::error::{
    form_status, html, internal_page, oauth_json, script_refusal, see_other, FormOutcome,
    ScriptRefusal,
};
use super::form;
use super::pages::{self, AccountPage, PasskeyRow};
use crate::accounts::{BrowserSession, User};
use crate::crypto::{b64, constant_time_eq, random_token, secret_hash, sha256};
use crate::oauth::authorize;
use crate::passkeys::PasskeyStoreError;
use crate::signin;
use crate::App;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use webauthn_rs::prelude::RegisterPublicKeyCredential;

fn csrf_for(cookie: &str) -> String {
    b64(&sha256(format!("account:{cookie}").as_bytes()))
}

struct Signed {
    cookie: String,
    session: BrowserSession,
    user: User,
}

/// The signed-in user, or the response that sends the browser to sign in.
async fn signed_in(app: &App, req: &HttpRequest, now: i64) -> Result<Signed, HttpResponse> {
    if let Some(cookie) = cookies::read(app, req, cookies::Name::Session) {
        let live = app
            .sessions
            .live(&app.users, &cookie, now)
            .await
            .map_err(|e| internal_page(&e))?;
        if let Some((session, user)) = live {
            return Ok(Signed {
                cookie,
                session,
                user,
            });
        }
    }
    Err(start_sign_in(app, req, false, now).await)
}

/// Sends the browser through the login page and back to /account.
async fn start_sign_in(app: &App, req: &HttpRequest, again: bool, now: i64) -> HttpResponse {
    let existing = cookies::read(app, req, cookies::Name::Flow);
    let flow = existing.clone().unwrap_or_else(random_token);
    let pending = authorize::internal("/account", &secret_hash(&flow), again, now);
    if let Err(e) = authorize::save(&app.ephemeral, &pending).await {
        return internal_page(&e);
    }
    let mut response = see_other(&format!("/login?req={}", pending.id));
    if existing.is_none() {
        let _ = response.add_cookie(&cookies::flow(app, flow));
    }
    response
}

async fn render(
    app: &App,
    signed: &Signed,
    now: i64,
    outcome: FormOutcome,
    message: Option<&str>,
) -> HttpResponse {
    let keys = match app.passkeys.passkeys().list(&signed.user.id).await {
        Ok(k) => k,
        Err(e) => return internal_page(&e),
    };
    let csrf = csrf_for(&signed.cookie);
    let rows = keys
        .iter()
        .map(|k| PasskeyRow {
            id: &k.id,
            name: &k.name,
            created: crate::clock::format_utc(k.created_at),
            last_used: k
                .last_used_at
                .map(crate::clock::format_utc)
                .unwrap_or_else(|| "never".into()),
            kind: k.kind,
            possibly_cloned: k.possibly_cloned,
        })
        .collect();
    html(
        form_status(outcome),
        pages::account(&AccountPage {
            username: &signed.user.username,
            csrf_token: &csrf,
            passkeys: rows,
            recently_authenticated: signin::is_recent(app, signed.session.auth_time, now),
            passkeys_enabled: app.passkeys.enabled(),
            message,
        }),
    )
}

pub async fn page(app: web::Data<App>, req: HttpRequest) -> HttpResponse {
    let now = crate::clock::now();
    match signed_in(&app, &req, now).await {
        Ok(signed) => render(&app, &signed, now, FormOutcome::Shown, None).await,
        Err(response) => response,
    }
}

/// "Confirm it is you": a fresh sign-in, then back to the account page.
pub async fn reauth(app: web::Data<App>, req: HttpRequest) -> HttpResponse {
    start_sign_in(&app, &req, true, crate::clock::now()).await
}

fn csrf_ok(signed: &Signed, presented: Option<&str>) -> bool {
    presented.is_some_and(|t| constant_time_eq(t.as_bytes(), csrf_for(&signed.cookie).as_bytes()))
}

/// The signed-in user and the posted form, CSRF-checked; `Err` is the
/// page to answer with.
async fn signed_form(
    app: &App,
    req: &HttpRequest,
    body: web::Payload,
    now: i64,
) -> Result<(Signed, form::Params), HttpResponse> {
    let signed = signed_in(app, req, now).await?;
    let params = match form::post_form(req, body, app.config.max_body_bytes).await {
        Ok(p) => p,
        Err(e) => {
            let text = e.description();
            return Err(render(app, &signed, now, FormOutcome::Incomplete, Some(&text)).await);
        }
    };
    if !csrf_ok(&signed, params.get("csrf_token")) {
        let text = "The form could not be verified; try again.";
        return Err(render(app, &signed, now, FormOutcome::Unverified, Some(text)).await);
    }
    Ok((signed, params))
}

/// After a rename or removal: back to the page, or the page with the reason.
async fn outcome(
    app: &App,
    signed: &Signed,
    now: i64,
    result: Result<(), PasskeyStoreError>,
) -> HttpResponse {
    match result {
        Ok(()) => see_other("/account"),
        Err(PasskeyStoreError::Store(e)) => internal_page(&e),
        Err(e) => {
            render(
                app,
                signed,
                now,
                FormOutcome::Incomplete,
                Some(&e.to_string()),
            )
            .await
        }
    }
}

pub async fn rename(app: web::Data<App>, req: HttpRequest, body: web::Payload) -> HttpResponse {
    let now = crate::clock::now();
    let (signed, params) = match signed_form(&app, &req, body, now).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let result = app
        .passkeys
        .passkeys()
        .rename(
            &signed.user.id,
            params.get("id").unwrap_or(""),
            params.get("name").unwrap_or(""),
        )
        .await;
    outcome(&app, &signed, now, result).await
}

pub async fn remove(app: web::Data<App>, req: HttpRequest, body: web::Payload) -> HttpResponse {
    let now = crate::clock::now();
    let (signed, params) = match signed_form(&app, &req, body, now).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    if !signin::is_recent(&app, signed.session.auth_time, now) {
        let text = "Confirm it is you (sign in again) before removing a passkey.";
        return render(
            &app,
            &signed,
            now,
            FormOutcome::NeedsRecentSignIn,
            Some(text),
        )
        .await;
    }
    let id = params.get("id").unwrap_or("");
    match signin::remove_own_passkey(&app, &signed.cookie, &signed.user.id, id, now).await {
        Ok(fresh) => {
            let mut response = see_other("/account");
            if let Some(fresh) = fresh {
                let _ = response.add_cookie(&cookies::session(&app, fresh));
            }
            response
        }
        Err(e) => outcome(&app, &signed, now, Err(e)).await,
    }
}

/// JSON answers for the page's script.
async fn signed_for_json(
    app: &App,
    req: &HttpRequest,
    csrf: &str,
    now: i64,
) -> Result<Signed, HttpResponse> {
    let signed = signed_in(app, req, now)
        .await
        .map_err(|_| script_refusal(ScriptRefusal::SignInFirst))?;
    if !csrf_ok(&signed, Some(csrf)) {
        return Err(script_refusal(ScriptRefusal::Unverified));
    }
    if !signin::is_recent(app, signed.session.auth_time, now) {
        return Err(script_refusal(ScriptRefusal::NeedsRecentSignIn));
    }
    Ok(signed)
}

#[derive(Deserialize)]
struct StartBody {
    csrf_token: String,
    name: String,
}

pub async fn registration_start(
    app: web::Data<App>,
    req: HttpRequest,
    body: web::Payload,
) -> HttpResponse {
    let now = crate::clock::now();
    let body: StartBody = match form::json_body(&req, body, app.config.max_body_bytes).await {
        Ok(b) => b,
        Err(e) => return oauth_json(&e),
    };
    let signed = match signed_for_json(&app, &req, &body.csrf_token, now).await {
        Ok(s) => s,
        Err(response) => return response,
    };
    let binding = format!("account:{}", signed.session.sid);
    match app
        .passkeys
        .start_registration(&signed.user, &body.name, &binding)
        .await
    {
        Ok(started) => super::error::no_store_json(&started),
        Err(e) => ceremony_error(&e),
    }
}

#[derive(Deserialize)]
struct FinishBody {
    csrf_token: String,
    ceremony_id: String,
    credential: RegisterPublicKeyCredential,
}

pub async fn registration_finish(
    app: web::Data<App>,
    req: HttpRequest,
    body: web::Payload,
) -> HttpResponse {
    let now = crate::clock::now();
    let body: FinishBody = match form::json_body(&req, body, app.config.max_body_bytes).await {
        Ok(b) => b,
        Err(e) => return oauth_json(&e),
    };
    let signed = match signed_for_json(&app, &req, &body.csrf_token, now).await {
        Ok(s) => s,
        Err(response) => return response,
    };
    let binding = format!("account:{}", signed.session.sid);
    match app
        .passkeys
        .finish_registration(&body.ceremony_id, &binding, &body.credential, now)
        .await
    {
        Ok(info) => HttpResponse::Created()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(info),
        Err(e) => ceremony_error(&e),
    }
}

pub async fn script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(include_str!("assets/account.js"))
}
