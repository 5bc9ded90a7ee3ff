//! The client address a request came from, for throttling and the audit
//! log: the TCP peer, or behind a trusted proxy the address it forwarded
//! (see [`crate::net`]).

use crate::App;
use actix_web::http::header::{HeaderName, FORWARDED};
use actix_web::HttpRequest;
use std::sync::atomic::{AtomicBool, Ordering};

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// Set once the "proxy not trusted" warning has been logged.
static WARNED: AtomicBool = AtomicBool::new(false);

/// All values of `name`, joined as one comma-separated list.
fn joined(req: &HttpRequest, name: &HeaderName) -> Option<String> {
    let values: Vec<&str> = req
        .headers()
        .get_all(name)
        .filter_map(|v| v.to_str().ok())
        .collect();
    (!values.is_empty()).then(|| values.join(","))
}

/// True when the request says it came through a proxy.
pub fn is_forwarded(req: &HttpRequest) -> bool {
    req.headers().contains_key(&FORWARDED) || req.headers().contains_key(&X_FORWARDED_FOR)
}

pub fn client_ip(app: &App, req: &HttpRequest) -> String {
    let Some(peer) = req.peer_addr().map(|a| a.ip()) else {
        return "unknown".into();
    };
    let forwarded = joined(req, &FORWARDED);
    let x_forwarded_for = joined(req, &X_FORWARDED_FOR);
    if app.trusted_proxies.is_empty() {
        if (forwarded.is_some() || x_forwarded_for.is_some())
            && !WARNED.swap(true, Ordering::Relaxed)
        {
            tracing::warn!(
                %peer,
                "a request carries X-Forwarded-For/Forwarded but trusted_proxies is empty: \
                 the header is ignored and every client behind that proxy counts as {peer} \
                 for per-IP throttling; list the proxy in trusted_proxies"
            );
        }
        return peer.to_string();
    }
    let chain = match (&forwarded, &x_forwarded_for) {
        (Some(f), _) => crate::net::forwarded(f),
        (None, Some(x)) => crate::net::x_forwarded_for(x),
        (None, None) => Vec::new(),
    };
    app.trusted_proxies.client_ip(peer, &chain).to_string()
}
