//! GET/POST /authorize: validate, then send the browser to login, consent,
//! or back to the client.

use super::cookies;
use super::error::{internal_page, refusal_page, see_other, PageRefusal};
use super::form::{self, Params};
use crate::crypto::{random_token, secret_hash};
use crate::oauth::authorize::{self, AuthorizeParams, Refusal};
use crate::oauth::flow::{self, Step};
use crate::App;
use actix_web::{web, HttpRequest, HttpResponse};

pub async fn get(app: web::Data<App>, req: HttpRequest) -> HttpResponse {
    match form::query(&req) {
        Ok(params) => handle(&app, &req, params).await,
        Err(e) => refusal_page(PageRefusal::Malformed(&e)),
    }
}

pub async fn post(app: web::Data<App>, req: HttpRequest, body: web::Payload) -> HttpResponse {
    match form::post_form(&req, body, app.config.max_body_bytes).await {
        Ok(params) => handle(&app, &req, params).await,
        Err(e) => refusal_page(PageRefusal::Malformed(&e)),
    }
}

async fn handle(app: &App, req: &HttpRequest, params: Params) -> HttpResponse {
    let now = crate::clock::now();
    let params: AuthorizeParams = match params.into_struct() {
        Ok(p) => p,
        Err(e) => return refusal_page(PageRefusal::Malformed(&e)),
    };
    let existing_flow = cookies::read(app, req, cookies::Name::Flow);
    let flow_cookie = existing_flow.clone().unwrap_or_else(random_token);
    let (pending, _client) = match authorize::validate(
        &app.clients,
        &app.resources,
        &params,
        &secret_hash(&flow_cookie),
        now,
    )
    .await
    {
        Ok(found) => found,
        Err(Refusal::Unsafe(message)) => {
            return refusal_page(PageRefusal::Refused {
                title: "This sign-in request is not valid",
                message: &message,
            })
        }
        Err(Refusal::Redirect(refusal)) => {
            return see_other(&flow::error_redirect(&refusal, &app.issuer))
        }
        Err(Refusal::Internal(e)) => return internal_page(&e),
    };
    let session = match cookies::read(app, req, cookies::Name::Session) {
        Some(cookie) => match app.sessions.get(&cookie, now).await {
            Ok(s) => s,
            Err(e) => return internal_page(&e),
        },
        None => None,
    };
    let step = match flow::proceed(app, &pending, session.as_ref(), false, now).await {
        Ok(step) => step,
        Err(e) => return internal_page(&e),
    };
    let location = match step {
        Step::Redirect(url) => url,
        Step::ShowLogin | Step::ShowConsent => {
            if let Err(e) = authorize::save(&app.ephemeral, &pending).await {
                return internal_page(&e);
            }
            crate::signin::next_url(&step, &pending)
        }
    };
    let mut response = see_other(&location);
    if existing_flow.is_none() {
        let _ = response.add_cookie(&cookies::flow(app, flow_cookie));
    }
    response
}
