//! Per-request observation: a request id (echoed as `X-Request-Id`), a log
//! line with route, status and latency (never the query, which can carry
//! codes and tokens), and the Prometheus counters. A request that failed
//! while a store was unreachable is answered 503 here (see
//! [`crate::store::outage`]).

use crate::store::outage;
use crate::App;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::web;
use std::time::Instant;
use tracing::Instrument;

pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let request_id = crate::crypto::b64(&crate::crypto::random_bytes(9));
    let route = req.match_pattern().unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let app = req.app_data::<web::Data<App>>().cloned();
    let span = tracing::info_span!("request", id = %request_id, %method, %route);
    let (response, outage) = outage::watch(next.call(req).instrument(span.clone())).await;
    let response = response?;
    let mut response = match outage {
        Some(store) if response.status() == StatusCode::INTERNAL_SERVER_ERROR => {
            let json = response
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/json"));
            let (request, _) = response.into_parts();
            ServiceResponse::new(request, super::error::store_unavailable(store, json))
                .map_into_right_body()
        }
        _ => response.map_into_left_body(),
    };
    let status = response.status().as_u16();
    let seconds = started.elapsed().as_secs_f64();
    if let Some(app) = app {
        app.metrics.request(&route, status, seconds);
    }
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-request-id"), value);
    }
    span.in_scope(|| tracing::debug!(status, micros = (seconds * 1e6) as u64, "done"));
    Ok(response)
}
