//! Liveness, readiness and metrics.

use crate::App;
use actix_web::{web, HttpResponse};
use serde_json::json;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Ready when both the durable and the ephemeral store answer.
pub async fn readyz(app: web::Data<App>) -> HttpResponse {
    let db = app.db.ping().await;
    let ephemeral = app.ephemeral.ping().await;
    let body = json!({
        "database": if db.is_ok() { "ok" } else { "unavailable" },
        "ephemeral": if ephemeral.is_ok() { "ok" } else { "unavailable" },
    });
    if let Err(e) = db
        .as_ref()
        .map_err(|e| e.to_string())
        .and(ephemeral.map_err(|e| e.to_string()))
    {
        tracing::warn!(error = %e, "not ready");
        return HttpResponse::ServiceUnavailable().json(body);
    }
    HttpResponse::Ok().json(body)
}

pub async fn metrics(app: web::Data<App>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(app.metrics.render())
}
