//! What users of mature providers expect at the edges, on both backend pairs: HEAD wherever GET
//! works, 405 with `Allow` for a wrong method, `invalid_grant` for any malformed refresh token,
//! `__Host-` cookies under https, `/metrics` not public, and `prompt=consent` honoured for
//! first-party clients.

use reqwest::{Method, StatusCode};
use tessera_tests::oauth::{self, http, login_and_exchange};
use tessera_tests::server::free_port;
use tessera_tests::steps;
use tessera_tests::{both_backends, Authorize, Backend, ClientSpec, Provider, PASSWORD};

both_backends!(
    head_answers_like_get,
    wrong_methods_get_405_with_allow,
    malformed_refresh_tokens_are_invalid_grant,
    cookies_are_host_prefixed_under_https,
    metrics_are_not_public,
    prompt_consent_asks_first_party_clients_too,
    pages_limit_where_forms_may_go
);

/// CSP `form-action`: a page's form may post to the provider and lead on to the client's
/// redirect URI (browsers check the redirects after a submission), nowhere else.
async fn pages_limit_where_forms_may_go(backend: Backend) {
    let p = Provider::start(backend);
    let client = p.admin().add_client(&ClientSpec::confidential("Web"));
    let browser = p.browser();
    let login = browser
        .follow(&Authorize::new(&p.server, &client).url())
        .await;
    assert_eq!(login.status.as_u16(), 200, "{}", login.describe());
    let csp = login.header("content-security-policy").unwrap_or_default();
    assert!(
        csp.contains("form-action 'self' https://rp.example.test;")
            || csp.ends_with("form-action 'self' https://rp.example.test"),
        "login page CSP: {csp}"
    );
    // A page with no onward target: the provider only.
    let error = browser
        .get(&p.server.url("/authorize?client_id=nobody"))
        .await;
    let csp = error.header("content-security-policy").unwrap_or_default();
    assert!(csp.ends_with("form-action 'self'"), "error page CSP: {csp}");
}

async fn head_answers_like_get(backend: Backend) {
    let p = Provider::start(backend);
    let client = p.admin().add_client(&ClientSpec::confidential("Web"));
    let authorize = Authorize::new(&p.server, &client).url();
    for url in [
        p.server.url("/.well-known/openid-configuration"),
        p.server.url("/jwks"),
        p.server.url("/healthz"),
        p.server.url("/assets/passkeys.js"),
        authorize,
    ] {
        let get = http().get(&url).send().await.expect("GET");
        let head = http().head(&url).send().await.expect("HEAD");
        assert_eq!(head.status(), get.status(), "HEAD {url}");
        assert_eq!(
            head.headers().get("content-type"),
            get.headers().get("content-type"),
            "HEAD {url}"
        );
        assert!(
            head.bytes().await.expect("body").is_empty(),
            "HEAD {url} sent a body"
        );
    }
}

async fn wrong_methods_get_405_with_allow(backend: Backend) {
    let p = Provider::start(backend);
    for (method, path, allow) in [
        (Method::GET, "/token", "POST"),
        (Method::PUT, "/token", "POST"),
        (Method::GET, "/introspect", "POST"),
        (Method::GET, "/revoke", "POST"),
        (Method::DELETE, "/userinfo", "GET, HEAD, POST"),
        (Method::POST, "/jwks", "GET, HEAD"),
        (Method::PUT, "/authorize", "GET, HEAD, POST"),
        (
            Method::POST,
            "/.well-known/openid-configuration",
            "GET, HEAD",
        ),
    ] {
        let resp = http()
            .request(method.clone(), p.server.url(path))
            .send()
            .await
            .expect("request");
        assert_eq!(
            resp.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        assert_eq!(
            resp.headers().get("allow").and_then(|v| v.to_str().ok()),
            Some(allow),
            "{method} {path}"
        );
    }
    // An unknown path is still 404.
    let resp = http().get(p.server.url("/nope")).send().await.expect("GET");
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

async fn malformed_refresh_tokens_are_invalid_grant(backend: Backend) {
    let p = Provider::start(backend);
    let client = p.admin().add_client(&ClientSpec::confidential("Web"));
    for token in [
        "x",
        "not a token at all",
        &"A".repeat(200),
        &"é".repeat(300),
        "a.b.c",
    ] {
        oauth::refresh(&p.server, &client, token)
            .await
            .assert_error(400, "invalid_grant");
    }
    // Missing is a malformed request, not a bad grant.
    oauth::token(&p.server, client.auth(), &[("grant_type", "refresh_token")])
        .await
        .assert_error(400, "invalid_request");
}

async fn cookies_are_host_prefixed_under_https(backend: Backend) {
    let bind = format!("127.0.0.1:{}", free_port());
    let issuer = format!(
        "https://localhost:{}",
        bind.rsplit(':').next().unwrap_or("0")
    );
    let p = Provider::start_with(
        backend,
        &[
            ("TESSERA_BIND", bind.as_str()),
            ("TESSERA_ISSUER", issuer.as_str()),
        ],
    );
    let client = p.admin().add_client(&ClientSpec::confidential("Web"));
    let resp = http()
        .get(Authorize::new(&p.server, &client).url())
        .send()
        .await
        .expect("GET /authorize");
    let cookies: Vec<&str> = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let flow = cookies
        .iter()
        .find(|c| c.starts_with("__Host-tessera_flow="))
        .unwrap_or_else(|| panic!("no __Host- flow cookie: {cookies:?}"));
    assert!(flow.contains("Secure"), "{flow}");
    assert!(flow.contains("Path=/"), "{flow}");
    assert!(!flow.to_ascii_lowercase().contains("domain="), "{flow}");
}

async fn metrics_are_not_public(backend: Backend) {
    let p = Provider::start(backend);
    let url = p.server.url("/metrics");
    // Loopback, direct: allowed (a local scraper).
    let resp = http().get(&url).send().await.expect("GET /metrics");
    assert_eq!(resp.status(), StatusCode::OK);
    // Through a proxy (a forwarding header): refused.
    let resp = http()
        .get(&url)
        .header("X-Forwarded-For", "203.0.113.5")
        .send()
        .await
        .expect("GET /metrics");
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);

    let token = "metrics-secret-0123456789";
    let p = Provider::start_with(backend, &[("TESSERA_METRICS_TOKEN", token)]);
    let url = p.server.url("/metrics");
    for auth in [
        None,
        Some("Bearer wrong-token-0123456789"),
        Some("Basic abc"),
    ] {
        let mut req = http().get(&url);
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let resp = req.send().await.expect("GET /metrics");
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{auth:?}");
        assert!(resp.headers().contains_key("www-authenticate"));
    }
    let resp = http()
        .get(&url)
        .bearer_auth(token)
        .send()
        .await
        .expect("GET");
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp
        .text()
        .await
        .expect("body")
        .contains("tessera_http_requests_total"));
}

async fn prompt_consent_asks_first_party_clients_too(backend: Backend) {
    let p = Provider::start(backend);
    let admin = p.admin();
    let user = admin.add_user("alice", PASSWORD);
    let client = admin.add_client(&ClientSpec::confidential("Shop app").first_party());
    let browser = p.browser();
    login_and_exchange(&browser, &p.server, &client, &user).await;
    // Signed in, first-party: no page at all...
    let req = Authorize::new(&p.server, &client);
    steps::land(&browser, &req.url())
        .await
        .expect_client("first-party without prompt");
    // ...but prompt=consent shows the consent page.
    let req = Authorize::new(&p.server, &client).param("prompt", "consent");
    let page = steps::land(&browser, &req.url())
        .await
        .expect_consent("first-party with prompt=consent");
    let loc = steps::consent(&browser, &page, tessera_tests::Consent::Approve)
        .await
        .expect_client("after consent");
    steps::assert_code(&loc, &req, &p.server);
}
