//! Step-up with `acr_values` and passkey sign-in on the login page (the
//! JSON calls its script makes), driven by the software authenticator: a
//! password session does not satisfy `acr_values=phr`, the login page then
//! offers only the passkey, and the ID token says `phr`/`phrh` truthfully.

use serde_json::json;
use tessera_tests::oauth::{self, exchange_code};
use tessera_tests::passkeys::{enrolled, login_ids, origin_of, post_json, Enrolled};
use tessera_tests::{
    both_backends, browser::query_param, jwt, Authorize, Backend, TokenSet, PASSWORD,
};

both_backends!(
    acr_values_phr_needs_a_passkey_even_with_a_password_session,
    login_page_passkey_calls_are_bound_to_the_browser_and_csrf
);

async fn acr_values_phr_needs_a_passkey_even_with_a_password_session(backend: Backend) {
    let Enrolled {
        p,
        user,
        client,
        mut authn,
    } = enrolled(backend, &[]).await;
    let _admin = p.admin();

    // A password session in this browser.
    let browser = p.browser();
    let tokens = oauth::login_and_exchange(&browser, &p.server, &client, &user).await;
    let first = jwt::decode_or_panic(tokens.id_token.as_deref().expect("id token"));
    assert_eq!(first.claims["amr"], json!(["pwd"]));

    // prompt=none cannot step up silently.
    let silent = Authorize::new(&p.server, &client)
        .param("acr_values", "phr")
        .param("prompt", "none");
    let resp = browser.get(&silent.url()).await;
    let loc = resp.expect_location();
    assert_eq!(
        query_param(&loc, "error").as_deref(),
        Some("login_required"),
        "{loc}"
    );

    // Interactive: the password session is not enough; the page offers only a passkey.
    let req = Authorize::new(&p.server, &client).param("acr_values", "phr");
    let resp = browser.get(&req.url()).await;
    let loc = resp.expect_location();
    assert_eq!(
        loc.path(),
        "/login",
        "acr_values=phr with a password session went to {loc}"
    );
    let page = browser.get(loc.as_str()).await;
    assert!(
        page.body.contains("asks you to sign in with a passkey"),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("type=\"password\""),
        "no password field: {}",
        page.body
    );
    let (req_id, csrf) = login_ids(&page);

    // A password POST anyway is refused.
    let refused = browser
        .post_form(
            &p.server.url("/login"),
            &[
                ("req".into(), req_id.clone()),
                ("csrf_token".into(), csrf.clone()),
                ("username".into(), user.username.clone()),
                ("password".into(), PASSWORD.into()),
            ],
        )
        .await;
    assert_eq!(refused.status.as_u16(), 400, "{}", refused.describe());

    // The passkey, through the login page's JSON calls.
    let started = post_json(
        &browser,
        &p.server.url("/login/passkey/start"),
        &json!({ "req": req_id, "csrf_token": csrf }),
    )
    .await;
    assert_eq!(started.status.as_u16(), 200, "{}", started.describe());
    let assertion = authn.get(&started.body["options"], &origin_of(&p));
    let done = post_json(
        &browser,
        &p.server.url("/login/passkey/finish"),
        &json!({ "req": req_id, "csrf_token": csrf,
                 "ceremony_id": started.expect_str("ceremony_id"), "credential": assertion }),
    )
    .await;
    assert_eq!(done.status.as_u16(), 200, "{}", done.describe());
    let location = url::Url::parse(&done.expect_str("location")).expect("absolute redirect");
    assert_eq!(
        query_param(&location, "state").as_deref(),
        Some(req.state.as_str())
    );
    let code = query_param(&location, "code").expect("code");
    let tokens = TokenSet::from_response(
        &exchange_code(&p.server, &client, &code, Some(req.verifier())).await,
    );
    let id = jwt::decode_or_panic(tokens.id_token.as_deref().expect("id token"));
    assert_eq!(id.claims["acr"], json!("phrh"), "{}", id.claims);
    assert_eq!(
        id.claims["amr"],
        json!(["hwk", "user", "mfa"]),
        "{}",
        id.claims
    );
    assert_eq!(id.claims["nonce"], json!(req.nonce));

    // The passkey session now satisfies acr_values=phr silently.
    let silent = Authorize::new(&p.server, &client)
        .param("acr_values", "phr")
        .param("prompt", "none");
    let loc = browser.get(&silent.url()).await.expect_location();
    assert!(query_param(&loc, "code").is_some(), "{loc}");
}

async fn login_page_passkey_calls_are_bound_to_the_browser_and_csrf(backend: Backend) {
    let Enrolled {
        p,
        user: _,
        client,
        mut authn,
    } = enrolled(backend, &[]).await;
    let _admin = p.admin();

    let browser = p.browser();
    let req = Authorize::new(&p.server, &client);
    let loc = browser.get(&req.url()).await.expect_location();
    let page = browser.get(loc.as_str()).await;
    let (req_id, csrf) = login_ids(&page);

    let wrong_csrf = post_json(
        &browser,
        &p.server.url("/login/passkey/start"),
        &json!({ "req": req_id, "csrf_token": "forged" }),
    )
    .await;
    assert_eq!(wrong_csrf.status.as_u16(), 403, "{}", wrong_csrf.describe());

    let other = p.browser();
    let foreign = post_json(
        &other,
        &p.server.url("/login/passkey/start"),
        &json!({ "req": req_id, "csrf_token": csrf }),
    )
    .await;
    assert_eq!(
        foreign.status.as_u16(),
        400,
        "another browser: {}",
        foreign.describe()
    );

    // A ceremony started for one login page cannot be finished from another.
    let started = post_json(
        &browser,
        &p.server.url("/login/passkey/start"),
        &json!({ "req": req_id, "csrf_token": csrf }),
    )
    .await;
    assert_eq!(started.status.as_u16(), 200, "{}", started.describe());
    let assertion = authn.get(&started.body["options"], &origin_of(&p));
    let req2 = Authorize::new(&p.server, &client);
    let loc2 = browser.get(&req2.url()).await.expect_location();
    let (req2_id, csrf2) = login_ids(&browser.get(loc2.as_str()).await);
    let crossed = post_json(
        &browser,
        &p.server.url("/login/passkey/finish"),
        &json!({ "req": req2_id, "csrf_token": csrf2,
                 "ceremony_id": started.expect_str("ceremony_id"), "credential": assertion }),
    )
    .await;
    assert_eq!(crossed.status.as_u16(), 400, "{}", crossed.describe());
    assert_eq!(crossed.str("error"), Some("invalid_request"));
    assert!(
        !browser.has_cookie("tessera_session"),
        "no session from a refused finish"
    );
}
