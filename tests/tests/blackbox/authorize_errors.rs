//! Errors at /authorize: redirected ones (RFC 6749 4.1.2.1, OIDC Core 3.1.2.6) and those that
//! must never redirect (unknown client, bad redirect URI).

use tessera_tests::browser::query_param;
use tessera_tests::{
    both_backends, Authorize, Backend, ClientSpec, Page, Pkce, Provider, RegisteredClient,
};

/// Asserts the provider redirected to the client's redirect URI with `error` and our state.
fn assert_redirect_error(page: &Page, req: &Authorize, client: &RegisteredClient, error: &str) {
    assert!(
        page.is_redirect(),
        "expected a redirect with error={error}:\n{}",
        page.describe()
    );
    let loc = page.expect_location();
    let mut target = loc.clone();
    target.set_query(None);
    assert_eq!(target.as_str(), client.redirect(), "redirected to {loc}");
    assert_eq!(
        query_param(&loc, "error").as_deref(),
        Some(error),
        "wrong error in {loc}"
    );
    assert_eq!(
        query_param(&loc, "state").as_deref(),
        Some(req.state.as_str()),
        "state not echoed in {loc}"
    );
    assert!(
        query_param(&loc, "code").is_none(),
        "a code came with an error: {loc}"
    );
}

/// Asserts an HTML 400 error page without `Location`.
fn assert_error_page(page: &Page, what: &str) {
    assert_eq!(
        page.status.as_u16(),
        400,
        "{what}: expected an HTML 400 page:\n{}",
        page.describe()
    );
    assert!(
        page.header("location").is_none(),
        "{what}: error page must not redirect:\n{}",
        page.describe()
    );
    let ct = page.header("content-type").unwrap_or("");
    assert!(
        ct.starts_with("text/html"),
        "{what}: error page content-type {ct:?}"
    );
}

both_backends!(
    missing_pkce_for_public_client,
    plain_code_challenge_method_refused,
    redirect_uri_mismatch_is_not_redirected,
    unknown_client_is_not_redirected,
    prompt_none_without_session_is_login_required,
    unsupported_response_type
);

async fn missing_pkce_for_public_client(backend: Backend) {
    let p = Provider::start(backend);
    let client = p.admin().add_client(&ClientSpec::public("SPA"));
    let req = Authorize::new(&p.server, &client).without_pkce();
    let page = p.browser().get(&req.url()).await;
    assert_redirect_error(&page, &req, &client, "invalid_request");
}

async fn plain_code_challenge_method_refused(backend: Backend) {
    let p = Provider::start(backend);
    let admin = p.admin();
    for spec in [ClientSpec::public("SPA"), ClientSpec::confidential("Web")] {
        let client = admin.add_client(&spec);
        let pkce = Pkce::new();
        let req = Authorize::new(&p.server, &client)
            .param("code_challenge", &pkce.verifier)
            .param("code_challenge_method", "plain");
        let page = p.browser().get(&req.url()).await;
        assert_redirect_error(&page, &req, &client, "invalid_request");
    }
}

async fn redirect_uri_mismatch_is_not_redirected(backend: Backend) {
    let p = Provider::start(backend);
    let client = p.admin().add_client(&ClientSpec::confidential("Web"));
    let registered = client.redirect().to_string();
    for bad in [
        "https://evil.example.test/callback".to_string(),
        format!("{registered}/extra"),
        format!("{registered}?next=x"),
        registered.replace("https://", "http://"),
        registered.to_uppercase(),
    ] {
        let req = Authorize::new(&p.server, &client).param("redirect_uri", &bad);
        let page = p.browser().get(&req.url()).await;
        assert_error_page(&page, &format!("redirect_uri {bad}"));
    }
}

async fn unknown_client_is_not_redirected(backend: Backend) {
    let p = Provider::start(backend);
    let client = p.admin().add_client(&ClientSpec::confidential("Web"));
    let req = Authorize::new(&p.server, &client).param("client_id", "no-such-client");
    let page = p.browser().get(&req.url()).await;
    assert_error_page(&page, "unknown client_id");
    let req = Authorize::new(&p.server, &client).without("client_id");
    let page = p.browser().get(&req.url()).await;
    assert_error_page(&page, "missing client_id");
}

async fn prompt_none_without_session_is_login_required(backend: Backend) {
    let p = Provider::start(backend);
    let client = p.admin().add_client(&ClientSpec::confidential("Web"));
    let req = Authorize::new(&p.server, &client).param("prompt", "none");
    let page = p.browser().get(&req.url()).await;
    assert_redirect_error(&page, &req, &client, "login_required");
}

async fn unsupported_response_type(backend: Backend) {
    let p = Provider::start(backend);
    let client = p.admin().add_client(&ClientSpec::confidential("Web"));
    let req = Authorize::new(&p.server, &client).param("response_type", "token");
    let page = p.browser().get(&req.url()).await;
    assert_redirect_error(&page, &req, &client, "unsupported_response_type");
}
