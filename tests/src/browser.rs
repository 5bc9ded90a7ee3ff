//! A browser-like HTTP client: keeps cookies, never follows redirects, fills the provider's
//! login and consent forms.

use std::sync::Arc;

use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::{HeaderMap, LOCATION};
use reqwest::StatusCode;
use url::Url;

use crate::html::{self, Form};

/// One HTTP response, fully read.
#[derive(Clone, Debug)]
pub struct Page {
    /// The URL that was requested.
    pub url: Url,
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn is_redirect(&self) -> bool {
        self.status.is_redirection()
    }

    /// The `Location` header resolved against the request URL.
    pub fn location(&self) -> Option<Url> {
        let loc = self.headers.get(LOCATION)?.to_str().ok()?;
        self.url.join(loc).ok()
    }

    /// `Location`, panicking with the page when there is none.
    pub fn expect_location(&self) -> Url {
        self.location().unwrap_or_else(|| {
            panic!(
                "expected a redirect from {}, got {} {}\n{}",
                self.url,
                self.status,
                header_dump(&self.headers),
                self.body
            )
        })
    }

    /// The first form posting to `path`.
    pub fn form(&self, path: &str) -> Option<Form> {
        html::form_with_action(&self.body, path)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Every `Set-Cookie` header value.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect()
    }

    /// Whether the response sets (not clears) cookie `name`.
    pub fn sets_cookie(&self, name: &str) -> bool {
        self.set_cookies().iter().any(|c| {
            let Some((n, rest)) = c.split_once('=') else {
                return false;
            };
            let value = rest.split(';').next().unwrap_or("").trim();
            let lower = c.to_ascii_lowercase();
            n.trim() == name
                && !value.is_empty()
                && !lower.contains("max-age=0")
                && !lower.contains("expires=thu, 01 jan 1970")
        })
    }

    /// Short description for assertion messages.
    pub fn describe(&self) -> String {
        format!(
            "{} {} {}\n{}",
            self.url,
            self.status,
            header_dump(&self.headers),
            self.body
        )
    }
}

fn header_dump(headers: &HeaderMap) -> String {
    headers
        .iter()
        .map(|(k, v)| format!("{k}: {}", v.to_str().unwrap_or("<binary>")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// What a completed authorization round trip produced.
#[derive(Clone, Debug)]
pub struct FlowOutcome {
    /// Where the provider finally redirected (the client's redirect URI).
    pub redirect: Url,
    pub saw_login: bool,
    pub saw_consent: bool,
}

impl FlowOutcome {
    /// A query parameter of the final redirect.
    pub fn param(&self, name: &str) -> Option<String> {
        query_param(&self.redirect, name)
    }

    /// The `code`, panicking with the redirect when there is none.
    pub fn code(&self) -> String {
        self.param("code")
            .unwrap_or_else(|| panic!("no code in redirect {}", self.redirect))
    }
}

/// A query parameter of `url`.
pub fn query_param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Consent decision for [`Browser::authorize`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Consent {
    Approve,
    Deny,
}

/// Cookie-keeping, non-redirecting HTTP client speaking to one provider.
#[derive(Clone)]
pub struct Browser {
    client: reqwest::Client,
    jar: Arc<Jar>,
    base: Url,
}

impl Browser {
    /// A fresh browser (empty cookie jar) for the provider at `base_url`.
    pub fn new(base_url: &str) -> Browser {
        let jar = Arc::new(Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(Arc::clone(&jar))
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .expect("build reqwest client");
        Browser {
            client,
            jar,
            base: Url::parse(base_url).expect("base URL"),
        }
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    /// The underlying client (same cookie jar).
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// `Cookie` header the browser would send to the provider.
    pub fn cookie_header(&self) -> String {
        self.jar
            .cookies(&self.base)
            .and_then(|v| v.to_str().ok().map(str::to_string))
            .unwrap_or_default()
    }

    /// Whether the jar holds cookie `name` for the provider.
    pub fn has_cookie(&self, name: &str) -> bool {
        self.cookie_header()
            .split(';')
            .filter_map(|c| c.trim().split_once('='))
            .any(|(n, v)| n == name && !v.is_empty())
    }

    /// Whether `url` is on the provider (same scheme, host and port).
    pub fn is_provider(&self, url: &Url) -> bool {
        url.scheme() == self.base.scheme()
            && url.host_str() == self.base.host_str()
            && url.port_or_known_default() == self.base.port_or_known_default()
    }

    /// Resolves a path or URL against the provider.
    pub fn resolve(&self, url: &str) -> Url {
        self.base.join(url).expect("resolve URL")
    }

    async fn read(&self, url: Url, resp: reqwest::Result<reqwest::Response>) -> Page {
        let resp = resp.unwrap_or_else(|e| panic!("request to {url} failed: {e}"));
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.text().await.unwrap_or_default();
        Page {
            url,
            status,
            headers,
            body,
        }
    }

    /// GET without following redirects.
    pub async fn get(&self, url: &str) -> Page {
        let url = self.resolve(url);
        let resp = self.client.get(url.clone()).send().await;
        self.read(url, resp).await
    }

    /// POST `application/x-www-form-urlencoded` without following redirects.
    pub async fn post_form(&self, url: &str, fields: &[(String, String)]) -> Page {
        let url = self.resolve(url);
        let resp = self.client.post(url.clone()).form(fields).send().await;
        self.read(url, resp).await
    }

    /// Follows redirects *within the provider* starting at `url` and returns the first page
    /// that is not such a redirect (a page, or a redirect leaving the provider).
    pub async fn follow(&self, url: &str) -> Page {
        let mut page = self.get(url).await;
        for _ in 0..10 {
            match page.location() {
                Some(loc) if page.is_redirect() && self.is_provider(&loc) => {
                    page = self.get(loc.as_str()).await;
                }
                _ => return page,
            }
        }
        panic!("redirect loop at {}", page.url)
    }

    /// Submits `form` (found on `page`) with its hidden inputs plus `extra` fields.
    pub async fn submit(&self, page: &Page, form: &Form, extra: &[(&str, &str)]) -> Page {
        let mut fields = form.hidden();
        for (k, v) in extra {
            fields.retain(|(n, _)| n != k);
            fields.push((k.to_string(), v.to_string()));
        }
        let action = form.action.clone().unwrap_or_else(|| page.url.to_string());
        let target = page.url.join(&action).expect("form action URL");
        self.post_form(target.as_str(), &fields).await
    }

    /// Posts `username`/`password` into the login form of `page` (panics if it has none).
    pub async fn submit_login(&self, page: &Page, username: &str, password: &str) -> Page {
        let form = page
            .form("/login")
            .unwrap_or_else(|| panic!("no login form on page:\n{}", page.describe()));
        assert!(
            form.value("req").is_some() && form.value("csrf_token").is_some(),
            "login form lacks hidden req/csrf_token: {form:?}"
        );
        self.submit(
            page,
            &form,
            &[("username", username), ("password", password)],
        )
        .await
    }

    /// Presses approve/deny on the consent form of `page`.
    pub async fn submit_consent(&self, page: &Page, decision: Consent) -> Page {
        let form = page
            .form("/consent")
            .unwrap_or_else(|| panic!("no consent form on page:\n{}", page.describe()));
        let value = match decision {
            Consent::Approve => "approve",
            Consent::Deny => "deny",
        };
        assert!(
            form.submit("decision", value).is_some(),
            "consent form has no decision={value} button: {form:?}"
        );
        self.submit(page, &form, &[("decision", value)]).await
    }

    /// Drives `/authorize` (URL `authorize_url`) through the login form (when shown) and the
    /// consent form (when shown, answering `consent`) until the provider redirects to the
    /// client. Panics on anything else.
    pub async fn authorize(
        &self,
        authorize_url: &str,
        username: &str,
        password: &str,
        consent: Consent,
    ) -> FlowOutcome {
        let mut page = self.follow(authorize_url).await;
        let mut saw_login = false;
        let mut saw_consent = false;
        for _ in 0..6 {
            if page.is_redirect() {
                let loc = page.expect_location();
                if !self.is_provider(&loc) {
                    return FlowOutcome {
                        redirect: loc,
                        saw_login,
                        saw_consent,
                    };
                }
                page = self.follow(loc.as_str()).await;
                continue;
            }
            assert_eq!(
                page.status,
                StatusCode::OK,
                "unexpected page during authorization:\n{}",
                page.describe()
            );
            if page.form("/login").is_some() && !saw_login {
                saw_login = true;
                page = self.submit_login(&page, username, password).await;
                assert!(
                    page.is_redirect(),
                    "login POST did not redirect:\n{}",
                    page.describe()
                );
            } else if page.form("/consent").is_some() && !saw_consent {
                saw_consent = true;
                page = self.submit_consent(&page, consent).await;
                assert!(
                    page.is_redirect(),
                    "consent POST did not redirect:\n{}",
                    page.describe()
                );
            } else {
                panic!("unexpected page during authorization:\n{}", page.describe());
            }
        }
        panic!("authorization did not finish:\n{}", page.describe())
    }
}
