//! Shared steps for passkey tests: a provider with passkeys on, enrolment
//! through the API, and the login page's JSON calls.

use crate::authenticator::Authenticator;
use crate::oauth::{self, JsonResponse};
use crate::{Backend, Browser, Page, Provider, RegisteredClient, User};
use serde_json::{json, Value};

/// A provider with RP id `localhost` (the test issuer is an IP address,
/// which cannot be an RP id) and the origin `http://localhost` (any port).
pub fn provider(backend: Backend) -> Provider {
    provider_with(backend, &[])
}

/// The same, with more settings.
pub fn provider_with(backend: Backend, extra: &[(&str, &str)]) -> Provider {
    let mut env = vec![
        ("TESSERA_WEBAUTHN_RP_ID", "localhost"),
        ("TESSERA_WEBAUTHN_ORIGINS", "http://localhost"),
    ];
    env.extend_from_slice(extra);
    Provider::start_with(backend, &env)
}

/// A provider with passkeys on (plus `extra` settings), alice, a first-party
/// confidential client "Shop", and a passkey of alice's enrolled on `authn`.
pub struct Enrolled {
    pub p: Provider,
    pub user: User,
    pub client: RegisteredClient,
    pub authn: Authenticator,
}

pub async fn enrolled(backend: Backend, extra: &[(&str, &str)]) -> Enrolled {
    let p = provider_with(backend, extra);
    let admin = p.admin();
    let user = admin.add_user("alice", crate::PASSWORD);
    let client = admin.add_client(&crate::ClientSpec::confidential("Shop").first_party());
    let mut authn = Authenticator::new();
    enroll(&p, &client, &user, &mut authn).await;
    Enrolled {
        p,
        user,
        client,
        authn,
    }
}

/// `http://localhost:PORT`: the origin a page served by the provider has.
pub fn origin_of(p: &Provider) -> String {
    let base = url::Url::parse(p.server.base_url()).expect("base URL");
    format!("http://localhost:{}", base.port().expect("port"))
}

pub async fn post_json(browser: &Browser, url: &str, body: &Value) -> JsonResponse {
    let resp = browser
        .client()
        .post(url)
        .json(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {url}: {e}"));
    JsonResponse::read(resp).await
}

/// Enrols a passkey named "Phone" for `user` through the API, with a fresh
/// password sign-in's token.
pub async fn enroll(
    p: &Provider,
    client: &RegisteredClient,
    user: &User,
    authn: &mut Authenticator,
) {
    let token = oauth::login_and_exchange(&p.browser(), &p.server, client, user)
        .await
        .access_token;
    let call = |path: &str, body: Value| {
        oauth::http()
            .post(p.server.url(path))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let started = JsonResponse::read(
        call("/passkeys/registration/start", json!({ "name": "Phone" }))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(started.status.as_u16(), 200, "{}", started.describe());
    let credential = authn.create(&started.body, &origin_of(p));
    let done = JsonResponse::read(
        call(
            "/passkeys/registration/finish",
            json!({ "ceremony_id": started.expect_str("ceremony_id"), "credential": credential }),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(done.status.as_u16(), 201, "{}", done.describe());
}

/// The `req` and `csrf_token` the login page gives its passkey script.
pub fn login_ids(page: &Page) -> (String, String) {
    let find = |attr: &str| {
        let marker = format!("{attr}=\"");
        let start = page
            .body
            .find(&marker)
            .unwrap_or_else(|| panic!("no {attr}: {}", page.body))
            + marker.len();
        let end = page.body[start..].find('"').expect("closing quote") + start;
        page.body[start..end].to_string()
    };
    (find("data-req"), find("data-csrf"))
}

/// Signs in on the login page at `login_url` with the passkey, as its
/// script does; returns the finish response (`{"location": ...}`).
pub async fn sign_in_on_login_page(
    p: &Provider,
    browser: &Browser,
    login_url: &str,
    authn: &mut Authenticator,
) -> JsonResponse {
    let page = browser.get(login_url).await;
    let (req, csrf) = login_ids(&page);
    let started = post_json(
        browser,
        &p.server.url("/login/passkey/start"),
        &json!({ "req": req, "csrf_token": csrf }),
    )
    .await;
    assert_eq!(started.status.as_u16(), 200, "{}", started.describe());
    let assertion = authn.get(&started.body["options"], &origin_of(p));
    post_json(
        browser,
        &p.server.url("/login/passkey/finish"),
        &json!({ "req": req, "csrf_token": csrf,
                 "ceremony_id": started.expect_str("ceremony_id"), "credential": assertion }),
    )
    .await
}
