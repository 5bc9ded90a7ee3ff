//! Discovery and JWKS: bytes prepared once, served with ETag and caching.

use crate::App;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

fn cached_json(req: &HttpRequest, bytes: Vec<u8>, etag: &str, max_age: u32) -> HttpResponse {
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut response = if matches {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, etag.to_string()))
        .insert_header((header::CACHE_CONTROL, format!("public, max-age={max_age}")))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"));
    if matches {
        response.finish()
    } else {
        response.content_type("application/json").body(bytes)
    }
}

pub async fn openid_configuration(app: web::Data<App>, req: HttpRequest) -> HttpResponse {
    cached_json(&req, app.discovery.bytes.clone(), &app.discovery.etag, 3600)
}

pub async fn jwks(app: web::Data<App>, req: HttpRequest) -> HttpResponse {
    let ring = app.keys.ring();
    // Short max-age: a rotation must reach verifiers before the next key signs.
    cached_json(&req, ring.jwks().to_vec(), ring.jwks_etag(), 300)
}
