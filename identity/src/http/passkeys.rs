//! The passkey JSON API for apps and H5 pages with their own UI:
//! registration behind a user's bearer token, sign-in ending in an
//! authorization code for the calling client.

use super::error::{
    bearer, ceremony_error, insufficient_user_authentication, oauth_json,
    passkey_login_error as login_error,
};
use super::form;
use crate::oauth::access_token::{self, AccessClaims};
use crate::oauth::authorize::AuthorizeParams;
use crate::oauth::first_party;
use crate::oauth::passkey_login;
use crate::oauth::OAuthError;
use crate::passkeys::CeremonyError;
use crate::App;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use webauthn_rs::prelude::{PublicKeyCredential, RegisterPublicKeyCredential};

/// The user behind the bearer token, which a first-party client must hold
/// and whose sign-in must be recent.
async fn recent_user(app: &App, req: &HttpRequest, now: i64) -> Result<AccessClaims, HttpResponse> {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim().to_string());
    let Some(token) = token else {
        return Err(bearer(None));
    };
    let claims = access_token::validate(app, &token, now)
        .await
        .map_err(|e| bearer(Some(&e)))?
        .claims;
    let Some(auth_time) = claims.auth_time.filter(|_| claims.has_user()) else {
        return Err(bearer(Some(&OAuthError::InvalidToken(
            "the token was not issued to a user".into(),
        ))));
    };
    first_party::require_first_party(app, &claims, "passkey.register", now)
        .await
        .map_err(|e| bearer(Some(&e)))?;
    // RFC 9470: the token's authentication is too old for this.
    if !crate::signin::is_recent(app, auth_time, now) {
        return Err(insufficient_user_authentication(
            app.config.passkey_recent_auth_secs,
        ));
    }
    Ok(claims)
}

fn user_binding(claims: &AccessClaims) -> String {
    format!("token:{}:{}", claims.client_id, claims.sub)
}

#[derive(Deserialize)]
struct RegistrationStartBody {
    name: String,
}

pub async fn registration_start(
    app: web::Data<App>,
    req: HttpRequest,
    body: web::Payload,
) -> HttpResponse {
    let now = crate::clock::now();
    let claims = match recent_user(&app, &req, now).await {
        Ok(c) => c,
        Err(response) => return response,
    };
    let body: RegistrationStartBody =
        match form::json_body(&req, body, app.config.max_body_bytes).await {
            Ok(b) => b,
            Err(e) => return oauth_json(&e),
        };
    let user = match app.users.by_id(&claims.sub).await {
        Ok(Some(u)) if !u.disabled => u,
        Ok(_) => return ceremony_error(&CeremonyError::UserUnavailable),
        Err(e) => return oauth_json(&OAuthError::from(e)),
    };
    match app
        .passkeys
        .start_registration(&user, &body.name, &user_binding(&claims))
        .await
    {
        Ok(started) => super::error::no_store_json(&started),
        Err(e) => ceremony_error(&e),
    }
}

#[derive(Deserialize)]
struct RegistrationFinishBody {
    ceremony_id: String,
    credential: RegisterPublicKeyCredential,
}

pub async fn registration_finish(
    app: web::Data<App>,
    req: HttpRequest,
    body: web::Payload,
) -> HttpResponse {
    let now = crate::clock::now();
    let claims = match recent_user(&app, &req, now).await {
        Ok(c) => c,
        Err(response) => return response,
    };
    let body: RegistrationFinishBody =
        match form::json_body(&req, body, app.config.max_body_bytes).await {
            Ok(b) => b,
            Err(e) => return oauth_json(&e),
        };
    match app
        .passkeys
        .finish_registration(
            &body.ceremony_id,
            &user_binding(&claims),
            &body.credential,
            now,
        )
        .await
    {
        Ok(info) => HttpResponse::Created()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(info),
        Err(e) => ceremony_error(&e),
    }
}

/// The authorization request the sign-in ends in. There is no username:
/// an anonymous caller always gets a discoverable-credential challenge, so
/// the answer never tells whether an account exists.
#[derive(Deserialize)]
struct AuthenticationStartBody {
    #[serde(flatten)]
    authorization: AuthorizeParams,
}

pub async fn authentication_start(
    app: web::Data<App>,
    req: HttpRequest,
    body: web::Payload,
) -> HttpResponse {
    let now = crate::clock::now();
    let body: AuthenticationStartBody =
        match form::json_body(&req, body, app.config.max_body_bytes).await {
            Ok(b) => b,
            Err(e) => return oauth_json(&e),
        };
    match passkey_login::start(&app, &body.authorization, now).await {
        Ok(started) => super::error::no_store_json(&started),
        Err(e) => login_error(&e),
    }
}

#[derive(Deserialize)]
struct AuthenticationFinishBody {
    client_id: String,
    ceremony_id: String,
    credential: PublicKeyCredential,
}

pub async fn authentication_finish(
    app: web::Data<App>,
    req: HttpRequest,
    body: web::Payload,
) -> HttpResponse {
    let now = crate::clock::now();
    let body: AuthenticationFinishBody =
        match form::json_body(&req, body, app.config.max_body_bytes).await {
            Ok(b) => b,
            Err(e) => return oauth_json(&e),
        };
    match passkey_login::finish(
        &app,
        &body.client_id,
        &body.ceremony_id,
        &body.credential,
        now,
    )
    .await
    {
        Ok(issued) => super::error::no_store_json(&issued),
        Err(e) => login_error(&e),
    }
}
