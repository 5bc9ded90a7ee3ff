//! GET/POST /userinfo with a bearer access token (RFC 6750 2.1 header, or
//! 2.2 form body for POST).

use super::error::bearer;
use super::form;
use crate::oauth::OAuthError;
use crate::oidc::userinfo;
use crate::App;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

fn header_token(req: &HttpRequest) -> Result<Option<String>, OAuthError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .map_err(|_| OAuthError::invalid_request("malformed Authorization header"))?;
    match text.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(Some(token.trim().to_string()))
        }
        _ => Err(OAuthError::InvalidToken("use the Bearer scheme".into())),
    }
}

async fn respond(app: &App, token: Option<String>) -> HttpResponse {
    let Some(token) = token else {
        return bearer(None);
    };
    match userinfo::userinfo(app, &token, crate::clock::now()).await {
        Ok(claims) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(claims),
        Err(e) => bearer(Some(&e)),
    }
}

pub async fn get(app: web::Data<App>, req: HttpRequest) -> HttpResponse {
    match header_token(&req) {
        Ok(token) => respond(&app, token).await,
        Err(e) => bearer(Some(&e)),
    }
}

pub async fn post(app: web::Data<App>, req: HttpRequest, body: web::Payload) -> HttpResponse {
    let from_header = match header_token(&req) {
        Ok(t) => t,
        Err(e) => return bearer(Some(&e)),
    };
    let has_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let from_body = if has_form {
        match form::post_form(&req, body, app.config.max_body_bytes).await {
            Ok(mut params) => params.take("access_token"),
            Err(e) => return bearer(Some(&e)),
        }
    } else {
        None
    };
    // RFC 6750 section 2: one method only.
    if from_header.is_some() && from_body.is_some() {
        return bearer(Some(&OAuthError::invalid_request(
            "send the token in the header or the body, not both",
        )));
    }
    respond(&app, from_header.or(from_body)).await
}
