//! POST /token, /introspect and /revoke: parse the form, authenticate the
//! client, call the domain, render JSON.

use super::error::{no_store_json, oauth_json};
use super::form::{self, Params};
use crate::oauth::grants::{self, ClientCredentials, TokenRequest};
use crate::oauth::{introspect, revoke, OAuthError};
use crate::App;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// `Authorization: Basic` with form-encoded id and secret (RFC 6749 2.3.1).
fn basic_credentials(req: &HttpRequest) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let bad = || OAuthError::InvalidClient("malformed Basic credentials".into());
    let text = value.to_str().map_err(|_| bad())?;
    let Some((scheme, encoded)) = text.split_once(' ') else {
        return Err(bad());
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(OAuthError::InvalidClient(
            "use HTTP Basic or client_secret_post".into(),
        ));
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    let decode = |s: &str| -> Result<String, OAuthError> {
        let text = form::decode_component(s.as_bytes()).map_err(|_| bad())?;
        form::check_text("client credentials", &text).map_err(|_| bad())?;
        Ok(text)
    };
    Ok(Some((decode(id)?, decode(secret)?)))
}

/// The form and the client's credentials from it and the headers.
async fn read_request(
    app: &App,
    req: &HttpRequest,
    body: web::Payload,
) -> Result<(Params, ClientCredentials), OAuthError> {
    let mut params = form::post_form(req, body, app.config.max_body_bytes).await?;
    let credentials = ClientCredentials {
        basic: basic_credentials(req)?,
        form_id: params.take("client_id"),
        form_secret: params.take("client_secret"),
    };
    Ok((params, credentials))
}

pub async fn token(app: web::Data<App>, req: HttpRequest, body: web::Payload) -> HttpResponse {
    let now = crate::clock::now();
    let result = async {
        let (params, credentials) = read_request(&app, &req, body).await?;
        let client = grants::authenticate_client(&app.clients, &credentials).await?;
        let request: TokenRequest = params.into_struct()?;
        grants::exchange(&app, &client, &request, now).await
    }
    .await;
    match result {
        Ok(response) => no_store_json(&response),
        Err(e) => {
            tracing::info!(error = e.code(), "token request refused");
            oauth_json(&e)
        }
    }
}

pub async fn introspect(app: web::Data<App>, req: HttpRequest, body: web::Payload) -> HttpResponse {
    let now = crate::clock::now();
    let result = async {
        let (params, credentials) = read_request(&app, &req, body).await?;
        let client = grants::authenticate_client(&app.clients, &credentials).await?;
        if client.is_public() {
            return Err(OAuthError::InvalidClient(
                "introspection needs a confidential client".into(),
            ));
        }
        let token = params
            .get("token")
            .ok_or_else(|| OAuthError::invalid_request("token is required"))?;
        introspect::introspect(&app, &client, token, params.get("token_type_hint"), now).await
    }
    .await;
    match result {
        Ok(found) => no_store_json(&found),
        Err(e) => oauth_json(&e),
    }
}

pub async fn revoke(app: web::Data<App>, req: HttpRequest, body: web::Payload) -> HttpResponse {
    let now = crate::clock::now();
    let result = async {
        let (params, credentials) = read_request(&app, &req, body).await?;
        let client = grants::authenticate_client(&app.clients, &credentials).await?;
        let token = params
            .get("token")
            .ok_or_else(|| OAuthError::invalid_request("token is required"))?;
        revoke::revoke(&app, &client, token, params.get("token_type_hint"), now).await
    }
    .await;
    match result {
        Ok(()) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish(),
        Err(e) => oauth_json(&e),
    }
}
