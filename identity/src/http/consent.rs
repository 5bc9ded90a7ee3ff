//! GET/POST /consent: a third-party client asks for the user's permission.

use super::cookies;
use super::error::{html_then, internal_page, refusal_page, see_other, PageRefusal};
use super::form;
use super::login::pending_for_browser;
use super::pages::{self, ConsentPage};
use crate::crypto::constant_time_eq;
use crate::oauth::flow;
use crate::oauth::{authorize, consent, OAuthError};
use crate::App;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

async fn session(
    app: &App,
    req: &HttpRequest,
    now: i64,
) -> Result<Option<crate::accounts::BrowserSession>, HttpResponse> {
    match cookies::read(app, req, cookies::Name::Session) {
        Some(cookie) => app
            .sessions
            .get(&cookie, now)
            .await
            .map_err(|e| internal_page(&e)),
        None => Ok(None),
    }
}

pub async fn get(app: web::Data<App>, req: HttpRequest) -> HttpResponse {
    let now = crate::clock::now();
    let params = match form::query(&req) {
        Ok(p) => p,
        Err(e) => return refusal_page(PageRefusal::Malformed(&e)),
    };
    let pending = match pending_for_browser(&app, &req, params.get("req")).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    match session(&app, &req, now).await {
        Ok(Some(_)) => {}
        Ok(None) => return see_other(&format!("/login?req={}", pending.id)),
        Err(response) => return response,
    }
    let name = match app.clients.get(&pending.client_id).await {
        Ok(Some(c)) => c.name,
        Ok(None) => pending.client_id.clone(),
        Err(e) => return internal_page(&e),
    };
    html_then(
        StatusCode::OK,
        pages::consent(&ConsentPage {
            request_id: &pending.id,
            csrf_token: &pending.csrf_token,
            client_name: &name,
            scopes: &pending.scopes,
        }),
        Some(&pending.redirect_uri),
    )
}

pub async fn post(app: web::Data<App>, req: HttpRequest, body: web::Payload) -> HttpResponse {
    let now = crate::clock::now();
    let params = match form::post_form(&req, body, app.config.max_body_bytes).await {
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
            message: "Reload the page and try again.",
        });
    }
    let session = match session(&app, &req, now).await {
        Ok(Some(s)) => s,
        Ok(None) => return see_other(&format!("/login?req={}", pending.id)),
        Err(response) => return response,
    };
    match params.get("decision") {
        Some("approve") => {}
        Some("deny") => {
            if let Err(e) = authorize::finish(&app.ephemeral, &pending.id).await {
                return internal_page(&e);
            }
            let refusal = pending.refuse(OAuthError::AccessDenied("the user denied access".into()));
            return see_other(&flow::error_redirect(&refusal, &app.issuer));
        }
        _ => {
            return refusal_page(PageRefusal::Refused {
                title: "Invalid request",
                message: "Choose Allow or Deny.",
            })
        }
    }
    if let Err(e) = consent::grant(
        &app.db,
        &session.user_id,
        &pending.client_id,
        &pending.scopes,
        now,
    )
    .await
    {
        return internal_page(&e);
    }
    match flow::proceed(&app, &pending, Some(&session), true, now).await {
        Ok(step) => see_other(&crate::signin::next_url(&step, &pending)),
        Err(e) => internal_page(&e),
    }
}
