//! The provider's cookies: `tessera_session` (single sign-on) and
//! `tessera_flow` (binds a pending authorization to the browser that
//! started it). HttpOnly, SameSite=Lax, Path=/. Under https they are
//! `Secure` and named with the `__Host-` prefix, so the browser refuses
//! them from a sibling subdomain or plain http (RFC 6265bis 4.1.3.2).

use crate::App;
use actix_web::cookie::time::Duration;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::HttpRequest;

/// Which of the provider's cookies.
#[derive(Debug, Clone, Copy)]
pub enum Name {
    Session,
    Flow,
}

impl Name {
    fn of(self, app: &App) -> &'static str {
        match (self, app.secure_cookies) {
            (Name::Session, false) => "tessera_session",
            (Name::Session, true) => "__Host-tessera_session",
            (Name::Flow, false) => "tessera_flow",
            (Name::Flow, true) => "__Host-tessera_flow",
        }
    }
}

fn build(app: &App, name: Name, value: String, max_age: Option<i64>) -> Cookie<'static> {
    let mut cookie = Cookie::build(name.of(app), value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(app.secure_cookies)
        .finish();
    if let Some(secs) = max_age {
        cookie.set_max_age(Duration::seconds(secs));
    }
    cookie
}

pub fn session(app: &App, value: String) -> Cookie<'static> {
    build(app, Name::Session, value, Some(app.sessions.ttl_secs()))
}

pub fn flow(app: &App, value: String) -> Cookie<'static> {
    // A browser-session cookie: gone when the browser closes.
    build(app, Name::Flow, value, None)
}

pub fn removal(app: &App, name: Name) -> Cookie<'static> {
    build(app, name, String::new(), Some(0))
}

pub fn read(app: &App, req: &HttpRequest, name: Name) -> Option<String> {
    req.cookie(name.of(app))
        .map(|c| c.value().to_string())
        .filter(|v| !v.is_empty() && v.len() <= 128)
}
