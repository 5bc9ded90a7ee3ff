//! The provider's cookies: `tessera_session` (single sign-on) and
//! `tessera_flow` (binds a pending authorization to the browser that
//! started it). HttpOnly, SameSite=Lax, Secure under https.

use crate::App;
use actix_web::cookie::time::Duration;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::HttpRequest;

pub const SESSION: &str = "tessera_session";
pub const FLOW: &str = "tessera_flow";

fn build(app: &App, name: &'static str, value: String, max_age: Option<i64>) -> Cookie<'static> {
    let mut cookie = Cookie::build(name, value)
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
    build(app, SESSION, value, Some(app.sessions.ttl_secs()))
}

pub fn flow(app: &App, value: String) -> Cookie<'static> {
    // A browser-session cookie: gone when the browser closes.
    build(app, FLOW, value, None)
}

pub fn removal(app: &App, name: &'static str) -> Cookie<'static> {
    build(app, name, String::new(), Some(0))
}

pub fn read(req: &HttpRequest, name: &str) -> Option<String> {
    req.cookie(name)
        .map(|c| c.value().to_string())
        .filter(|v| !v.is_empty() && v.len() <= 128)
}
