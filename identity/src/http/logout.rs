//! GET/POST /logout: RP-initiated logout. With a valid `id_token_hint` of
//! the signed-in user the session ends at once; with none, or one of another
//! user, the user confirms with a form (so a third-party page cannot sign
//! people out with an image tag or someone else's ID token).

use super::cookies;
use super::error::{html, html_then, internal_page, refusal_page, see_other, PageRefusal};
use super::form::{self, Params};
use super::pages;
use crate::crypto::{b64, constant_time_eq, sha256};
use crate::oauth::flow::with_query;
use crate::oidc::logout::{self, LogoutError, LogoutParams};
use crate::App;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

/// A CSRF token derived from the session cookie: only the browser holding
/// the cookie can know it, and nothing needs storing.
fn logout_csrf(session_cookie: &str) -> String {
    b64(&sha256(format!("logout:{session_cookie}").as_bytes()))
}

pub async fn get(app: web::Data<App>, req: HttpRequest) -> HttpResponse {
    match form::query(&req) {
        Ok(params) => handle(&app, &req, params, false).await,
        Err(e) => refusal_page(PageRefusal::Malformed(&e)),
    }
}

pub async fn post(app: web::Data<App>, req: HttpRequest, body: web::Payload) -> HttpResponse {
    match form::post_form(&req, body, app.config.max_body_bytes).await {
        Ok(params) => handle(&app, &req, params, true).await,
        Err(e) => refusal_page(PageRefusal::Malformed(&e)),
    }
}

async fn handle(app: &App, req: &HttpRequest, params: Params, posted: bool) -> HttpResponse {
    let now = crate::clock::now();
    let confirmed_csrf = params.get("csrf_token").map(String::from);
    let params: LogoutParams = match params.into_struct() {
        Ok(p) => p,
        Err(e) => return refusal_page(PageRefusal::Malformed(&e)),
    };
    let checked = match logout::check(app, &params, now).await {
        Ok(c) => c,
        Err(LogoutError::Refused(message)) => {
            return refusal_page(PageRefusal::Refused {
                title: "This sign-out request is not valid",
                message: &message,
            })
        }
        Err(LogoutError::Internal(e)) => return internal_page(&e),
    };
    let session_cookie = cookies::read(app, req, cookies::Name::Session);
    if let Some(cookie) = &session_cookie {
        let confirmed = posted
            && confirmed_csrf
                .as_deref()
                .is_some_and(|t| constant_time_eq(t.as_bytes(), logout_csrf(cookie).as_bytes()));
        let must_confirm = match logout::must_confirm(app, &checked, cookie, now).await {
            Ok(must) => must,
            Err(e) => return internal_page(&e),
        };
        if must_confirm && !confirmed {
            let mut carry = Vec::new();
            if let Some((uri, state)) = &checked.redirect {
                if let Some(hint) = params.id_token_hint.as_deref() {
                    carry.push(("id_token_hint", hint));
                }
                if let Some(client) = params.client_id.as_deref() {
                    carry.push(("client_id", client));
                }
                carry.push(("post_logout_redirect_uri", uri.as_str()));
                if let Some(state) = state {
                    carry.push(("state", state.as_str()));
                }
            }
            return html_then(
                StatusCode::OK,
                pages::confirm_logout(&logout_csrf(cookie), &carry),
                checked.redirect.as_ref().map(|(uri, _)| uri.as_str()),
            );
        }
        if let Err(e) = logout::end_session(app, cookie, now).await {
            return internal_page(&e);
        }
    }
    let mut response = match &checked.redirect {
        Some((uri, state)) => {
            let params: Vec<(&str, &str)> = state.iter().map(|s| ("state", s.as_str())).collect();
            see_other(&with_query(uri, &params))
        }
        None => html(StatusCode::OK, pages::signed_out()),
    };
    let _ = response.add_cookie(&cookies::removal(app, cookies::Name::Session));
    response
}
