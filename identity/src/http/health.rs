//! Liveness, readiness and metrics.

use crate::metrics::Metrics;
use crate::store::outage::StoreName;
use crate::store::StoreError;
use crate::App;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;
use std::time::Duration;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// How long readiness waits for each store (both are asked at once).
const PROBE_WAIT: Duration = Duration::from_millis(1500);

async fn probe(
    store: impl std::future::Future<Output = Result<(), StoreError>>,
) -> Result<(), String> {
    match tokio::time::timeout(PROBE_WAIT, store).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("no answer within the probe time".into()),
    }
}

/// Ready when both the durable and the ephemeral store answer; otherwise
/// 503 within 2 s, naming the store that does not (`unavailable_stores`).
pub async fn readyz(app: web::Data<App>) -> HttpResponse {
    let (db, ephemeral) = tokio::join!(probe(app.db.ping()), probe(app.ephemeral.ping()));
    let state = |r: &Result<(), String>| if r.is_ok() { "ok" } else { "unavailable" };
    let unavailable: Vec<&str> = [
        (StoreName::Database, &db),
        (StoreName::Ephemeral, &ephemeral),
    ]
    .into_iter()
    .filter_map(|(store, result)| {
        let error = result.as_ref().err()?;
        tracing::warn!(store = store.as_str(), %error, "not ready");
        Some(store.as_str())
    })
    .collect();
    let body = json!({
        "status": if unavailable.is_empty() { "ok" } else { "unavailable" },
        "database": state(&db),
        "ephemeral": state(&ephemeral),
        "unavailable_stores": unavailable,
    });
    let mut response = if unavailable.is_empty() {
        HttpResponse::Ok()
    } else {
        HttpResponse::ServiceUnavailable()
    };
    response
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

/// Whether this request may read `/metrics`: with `metrics_token` set, a
/// matching bearer token (compared in constant time); without it, a direct
/// request from the loopback interface (no forwarding header: a local
/// reverse proxy would otherwise publish the metrics).
fn may_read_metrics(app: &App, req: &HttpRequest) -> bool {
    match &app.config.metrics_token {
        Some(expected) => req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|t| crate::crypto::constant_time_eq(t.as_bytes(), expected.as_bytes())),
        None => {
            !super::client_ip::is_forwarded(req)
                && req.peer_addr().is_some_and(|a| a.ip().is_loopback())
        }
    }
}

pub async fn metrics(app: web::Data<App>, req: HttpRequest) -> HttpResponse {
    if !may_read_metrics(&app, &req) {
        return super::error::metrics_refused(app.config.metrics_token.is_some());
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(match app.ephemeral.memory_stats() {
            Some((entries, evicted)) => {
                app.metrics.render() + &Metrics::render_memory_store(entries, evicted)
            }
            None => app.metrics.render(),
        })
}
