//! Step-by-step authorization: where one request lands (login page, consent page, or back at
//! the client), and assertions on authorization error redirects and provider error pages. For
//! tests that must see each step instead of [`crate::Browser::authorize`]'s whole round trip.

use url::Url;

use crate::browser::{query_param, Browser, Page};
use crate::oauth::Authorize;
use crate::server::Server;

/// Where the browser ended up after a provider response (provider-internal redirects
/// followed).
#[derive(Clone, Debug)]
pub enum Landing {
    /// A 200 page with the login form.
    Login(Page),
    /// A 200 page with the consent form.
    Consent(Page),
    /// A redirect leaving the provider (to the client), with its target.
    Client(Url),
    /// Anything else (an error page, ...).
    Other(Page),
}

impl Landing {
    /// Classifies `page`, following its redirect when it stays on the provider.
    pub async fn from_page(browser: &Browser, page: Page) -> Landing {
        let page = match page.location() {
            Some(loc) if page.is_redirect() && !browser.is_provider(&loc) => {
                return Landing::Client(loc)
            }
            Some(loc) if page.is_redirect() => browser.follow(loc.as_str()).await,
            _ => page,
        };
        if page.is_redirect() {
            if let Some(loc) = page.location() {
                return Landing::Client(loc);
            }
        }
        if page.status.as_u16() == 200 && page.form("/login").is_some() {
            Landing::Login(page)
        } else if page.status.as_u16() == 200 && page.form("/consent").is_some() {
            Landing::Consent(page)
        } else {
            Landing::Other(page)
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Landing::Login(p) => format!("the login page: {}", p.url),
            Landing::Consent(p) => format!("the consent page: {}", p.url),
            Landing::Client(u) => format!("a redirect to the client: {u}"),
            Landing::Other(p) => format!("another page:\n{}", p.describe()),
        }
    }

    /// The login page, panicking (with `what`) on anything else.
    pub fn expect_login(self, what: &str) -> Page {
        match self {
            Landing::Login(p) => p,
            other => panic!("{what}: expected the login page, got {}", other.describe()),
        }
    }

    /// The consent page, panicking (with `what`) on anything else.
    pub fn expect_consent(self, what: &str) -> Page {
        match self {
            Landing::Consent(p) => p,
            other => panic!(
                "{what}: expected the consent page, got {}",
                other.describe()
            ),
        }
    }

    /// The redirect to the client, panicking (with `what`) on anything else.
    pub fn expect_client(self, what: &str) -> Url {
        match self {
            Landing::Client(u) => u,
            other => panic!(
                "{what}: expected a redirect to the client, got {}",
                other.describe()
            ),
        }
    }
}

/// GET `url` in `browser` and classify where it lands.
pub async fn land(browser: &Browser, url: &str) -> Landing {
    let page = browser.get(url).await;
    Landing::from_page(browser, page).await
}

/// Posts the login form of `page` and classifies where the provider sends the browser.
pub async fn login(browser: &Browser, page: &Page, username: &str, password: &str) -> Landing {
    let resp = browser.submit_login(page, username, password).await;
    assert_eq!(
        resp.status.as_u16(),
        303,
        "login POST did not answer 303:\n{}",
        resp.describe()
    );
    Landing::from_page(browser, resp).await
}

/// Presses `decision` (`approve` / `deny`) on the consent form of `page` and classifies where
/// the provider sends the browser.
pub async fn consent(browser: &Browser, page: &Page, decision: crate::Consent) -> Landing {
    let resp = browser.submit_consent(page, decision).await;
    assert_eq!(
        resp.status.as_u16(),
        303,
        "consent POST did not answer 303:\n{}",
        resp.describe()
    );
    Landing::from_page(browser, resp).await
}

/// Asserts `loc` is the request's redirect URI carrying a code, its `state` and the issuer
/// (RFC 9207); returns the code.
pub fn assert_code(loc: &Url, req: &Authorize, server: &Server) -> String {
    assert_target(loc, req);
    assert!(
        query_param(loc, "error").is_none(),
        "an error came instead of a code: {loc}"
    );
    assert_eq!(
        query_param(loc, "state").as_deref(),
        Some(req.state.as_str()),
        "state not echoed: {loc}"
    );
    assert_eq!(
        query_param(loc, "iss").as_deref(),
        Some(server.issuer()),
        "iss missing or wrong: {loc}"
    );
    query_param(loc, "code").unwrap_or_else(|| panic!("no code in {loc}"))
}

/// Asserts `loc` is the request's redirect URI carrying `error`, its `state`, the issuer and no
/// code (RFC 6749 4.1.2.1, RFC 9207).
pub fn assert_error(loc: &Url, req: &Authorize, server: &Server, error: &str) {
    assert_target(loc, req);
    assert_eq!(
        query_param(loc, "error").as_deref(),
        Some(error),
        "wrong or missing error: {loc}"
    );
    assert_eq!(
        query_param(loc, "state").as_deref(),
        Some(req.state.as_str()),
        "state not echoed with the error: {loc}"
    );
    assert_eq!(
        query_param(loc, "iss").as_deref(),
        Some(server.issuer()),
        "iss missing or wrong with the error: {loc}"
    );
    assert!(
        query_param(loc, "code").is_none(),
        "a code came with error={error}: {loc}"
    );
}

fn assert_target(loc: &Url, req: &Authorize) {
    let mut target = loc.clone();
    target.set_query(None);
    target.set_fragment(None);
    assert_eq!(
        target.as_str(),
        req.redirect_uri,
        "redirected somewhere else: {loc}"
    );
}

/// Asserts an HTML error page with `status` and no `Location` (a refusal that must not
/// redirect).
pub fn assert_error_page(page: &Page, status: u16, what: &str) {
    assert_eq!(
        page.status.as_u16(),
        status,
        "{what}: expected an HTML {status} page:\n{}",
        page.describe()
    );
    assert!(
        page.header("location").is_none(),
        "{what}: the error page must not redirect:\n{}",
        page.describe()
    );
    let ct = page.header("content-type").unwrap_or("");
    assert!(
        ct.starts_with("text/html"),
        "{what}: error page content-type {ct:?}:\n{}",
        page.describe()
    );
}

/// Whether the browser's provider session is alive: a `prompt=none` request answers with a
/// code (`true`) or with `login_required` (`false`). Panics on any other answer.
pub async fn session_alive(browser: &Browser, server: &Server, req: &Authorize) -> bool {
    let req = req.clone().param("prompt", "none");
    let page = browser.get(&req.url()).await;
    let loc = Landing::from_page(browser, page)
        .await
        .expect_client("prompt=none");
    if query_param(&loc, "code").is_some() {
        assert_code(&loc, &req, server);
        true
    } else {
        assert_error(&loc, &req, server, "login_required");
        false
    }
}
