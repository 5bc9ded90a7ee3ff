//! The consent page of third-party clients: deny and approve, remembered consent with single
//! sign-on, `prompt=consent`, CSRF protection of the form, withdrawal with
//! `tessera-admin user revoke-consent`, and `prompt=none` without consent.

use serde_json::Value;
use tessera_tests::oauth::{self, exchange_code};
use tessera_tests::steps::{self, land, Landing};
use tessera_tests::{
    both_backends, Authorize, Backend, Browser, ClientSpec, Consent, Page, Provider,
    RegisteredClient, TokenSet, User, PASSWORD,
};

/// Starts an authorization without a session, logs `user` in and returns the consent page.
async fn consent_page(browser: &Browser, req: &Authorize, user: &User) -> Page {
    let login = land(browser, &req.url())
        .await
        .expect_login("authorize without a session");
    steps::login(browser, &login, &user.username, &user.password)
        .await
        .expect_consent("third-party client after login")
}

/// The consent form's fields with `csrf_token` replaced (`None`: left out) and
/// `decision=approve`.
fn consent_fields(page: &Page, csrf: Option<&str>) -> Vec<(String, String)> {
    let form = page.form("/consent").expect("consent form");
    let mut fields: Vec<(String, String)> = form
        .hidden()
        .into_iter()
        .filter(|(n, _)| n != "csrf_token")
        .collect();
    if let Some(c) = csrf {
        fields.push(("csrf_token".into(), c.into()));
    }
    fields.push(("decision".into(), "approve".into()));
    fields
}

/// `user consents USER --json`: (client_id, scopes) of every remembered consent.
fn consents(p: &Provider, user: &User) -> Vec<(String, Vec<String>)> {
    let listed = p.admin().consents(&user.username);
    let rows = listed
        .as_array()
        .unwrap_or_else(|| panic!("`user consents --json` is not an array: {listed}"));
    rows.iter()
        .map(|row| {
            let client = row
                .get("client_id")
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("consent row without client_id: {row}"))
                .to_string();
            let scopes = row
                .get("scopes")
                .and_then(Value::as_array)
                .unwrap_or_else(|| panic!("consent row without a scopes array: {row}"))
                .iter()
                .map(|s| s.as_str().expect("scope string").to_string())
                .collect();
            (client, scopes)
        })
        .collect()
}

fn redeem_ok(tokens: &TokenSet, what: &str) {
    assert!(
        !tokens.access_token.is_empty() && tokens.id_token.is_some(),
        "{what}: no tokens: {}",
        tokens.raw
    );
}

async fn exchange(
    p: &Provider,
    client: &RegisteredClient,
    req: &Authorize,
    code: &str,
) -> TokenSet {
    TokenSet::from_response(&exchange_code(&p.server, client, code, Some(req.verifier())).await)
}

both_backends!(
    deny_redirects_access_denied_and_remembers_nothing,
    approve_is_remembered_with_single_sign_on,
    prompt_consent_asks_again,
    consent_post_with_wrong_csrf_token_is_refused,
    consent_post_from_another_browser_is_refused,
    revoked_consent_is_asked_again,
    prompt_none_without_consent_is_consent_required,
    consent_covers_only_the_scopes_granted
);

async fn deny_redirects_access_denied_and_remembers_nothing(backend: Backend) {
    let p = Provider::start(backend);
    let admin = p.admin();
    let user = admin.add_user("alice", PASSWORD);
    let client = admin.add_client(&ClientSpec::confidential("Third party"));
    let browser = p.browser();
    let req = Authorize::new(&p.server, &client);
    let page = consent_page(&browser, &req, &user).await;
    assert!(
        page.body.contains("Third party"),
        "consent page does not name the client:\n{}",
        page.body
    );

    let loc = steps::consent(&browser, &page, Consent::Deny)
        .await
        .expect_client("deny");
    steps::assert_error(&loc, &req, &p.server, "access_denied");

    // The request is finished: replaying the same form with approve yields no code.
    let replay = browser
        .post_form(
            "/consent",
            &consent_fields(&page, page.form("/consent").unwrap().value("csrf_token")),
        )
        .await;
    steps::assert_error_page(&replay, 400, "approve replayed after deny");

    // Nothing was remembered: no consent listed, and the next authorization asks again
    // (without a new login: the session is there).
    assert!(
        consents(&p, &user).is_empty(),
        "a denied consent was remembered"
    );
    let req = Authorize::new(&p.server, &client);
    land(&browser, &req.url())
        .await
        .expect_consent("authorization after deny");
}

async fn approve_is_remembered_with_single_sign_on(backend: Backend) {
    let p = Provider::start(backend);
    let admin = p.admin();
    let user = admin.add_user("alice", PASSWORD);
    let client = admin.add_client(&ClientSpec::confidential("Third party"));
    let browser = p.browser();

    let req = Authorize::new(&p.server, &client);
    let page = consent_page(&browser, &req, &user).await;
    let loc = steps::consent(&browser, &page, Consent::Approve)
        .await
        .expect_client("approve");
    let code = steps::assert_code(&loc, &req, &p.server);
    redeem_ok(&exchange(&p, &client, &req, &code).await, "approved code");

    // Second authorization of the same client in the same browser: /authorize itself answers
    // with the code (no login page, no consent page).
    let req = Authorize::new(&p.server, &client);
    let first = browser.get(&req.url()).await;
    assert_eq!(first.status.as_u16(), 303, "{}", first.describe());
    let loc = first.expect_location();
    assert!(
        !browser.is_provider(&loc),
        "second authorization went to {loc} instead of back to the client"
    );
    let code = steps::assert_code(&loc, &req, &p.server);
    redeem_ok(&exchange(&p, &client, &req, &code).await, "remembered code");
}

async fn prompt_consent_asks_again(backend: Backend) {
    let p = Provider::start(backend);
    let admin = p.admin();
    let user = admin.add_user("alice", PASSWORD);
    let client = admin.add_client(&ClientSpec::confidential("Third party"));
    let browser = p.browser();
    Authorize::new(&p.server, &client)
        .run(&browser, &p.server, &user)
        .await;

    // Consent is remembered, yet prompt=consent shows the page again (no login: SSO).
    let req = Authorize::new(&p.server, &client).param("prompt", "consent");
    let page = land(&browser, &req.url())
        .await
        .expect_consent("prompt=consent with remembered consent");
    let loc = steps::consent(&browser, &page, Consent::Approve)
        .await
        .expect_client("approve after prompt=consent");
    steps::assert_code(&loc, &req, &p.server);

    // Denying a prompt=consent request is access_denied too.
    let req = Authorize::new(&p.server, &client).param("prompt", "consent");
    let page = land(&browser, &req.url())
        .await
        .expect_consent("second prompt=consent");
    let loc = steps::consent(&browser, &page, Consent::Deny)
        .await
        .expect_client("deny after prompt=consent");
    steps::assert_error(&loc, &req, &p.server, "access_denied");
}

async fn consent_post_with_wrong_csrf_token_is_refused(backend: Backend) {
    let p = Provider::start(backend);
    let admin = p.admin();
    let user = admin.add_user("alice", PASSWORD);
    let client = admin.add_client(&ClientSpec::confidential("Third party"));
    let browser = p.browser();
    let req = Authorize::new(&p.server, &client);
    let page = consent_page(&browser, &req, &user).await;

    // The CSRF token of another pending request of the same browser does not fit either.
    let other_req = Authorize::new(&p.server, &client);
    let other = land(&browser, &other_req.url())
        .await
        .expect_consent("a second pending request");
    let other_csrf = other
        .form("/consent")
        .and_then(|f| f.value("csrf_token").map(str::to_string))
        .expect("csrf_token on the second consent page");

    for (what, csrf) in [
        ("wrong csrf_token", Some("forged-csrf-token")),
        ("empty csrf_token", Some("")),
        ("missing csrf_token", None),
        ("csrf_token of another request", Some(other_csrf.as_str())),
    ] {
        let resp = browser
            .post_form("/consent", &consent_fields(&page, csrf))
            .await;
        steps::assert_error_page(&resp, 403, what);
        assert!(
            !resp.body.contains("code="),
            "{what}: the refusal carries a code:\n{}",
            resp.body
        );
    }
    // Nothing was granted by the refused posts.
    assert!(
        consents(&p, &user).is_empty(),
        "a consent POST with a bad csrf_token was remembered"
    );

    // The genuine form still works afterwards.
    let loc = steps::consent(&browser, &page, Consent::Approve)
        .await
        .expect_client("genuine consent after refused ones");
    steps::assert_code(&loc, &req, &p.server);
}

async fn consent_post_from_another_browser_is_refused(backend: Backend) {
    let p = Provider::start(backend);
    let admin = p.admin();
    let user = admin.add_user("alice", PASSWORD);
    let client = admin.add_client(&ClientSpec::confidential("Third party"));
    let browser = p.browser();
    let req = Authorize::new(&p.server, &client);
    let page = consent_page(&browser, &req, &user).await;
    let csrf = page
        .form("/consent")
        .unwrap()
        .value("csrf_token")
        .map(str::to_string);

    // The complete, genuine form posted by a browser without the flow cookie (cross-site
    // request forgery of consent): refused, no redirect.
    let attacker = p.browser();
    let resp = attacker
        .post_form("/consent", &consent_fields(&page, csrf.as_deref()))
        .await;
    steps::assert_error_page(&resp, 400, "consent posted from another browser");
    assert!(consents(&p, &user).is_empty(), "forged consent remembered");
}

async fn revoked_consent_is_asked_again(backend: Backend) {
    let p = Provider::start(backend);
    let admin = p.admin();
    let user = admin.add_user("alice", PASSWORD);
    // Fixed ids: a generated id may start with `-`, which `revoke-consent USER CLIENT` would
    // take for an option.
    let client =
        admin.add_client(&ClientSpec::confidential("Third party").client_id("third-party"));
    let other = admin.add_client(&ClientSpec::confidential("Another").client_id("another"));
    let browser = p.browser();
    Authorize::new(&p.server, &client)
        .run(&browser, &p.server, &user)
        .await;
    Authorize::new(&p.server, &other)
        .run(&browser, &p.server, &user)
        .await;

    // Listed before withdrawal, with the scopes approved.
    let mut listed = consents(&p, &user);
    listed.sort();
    let mut expected = vec![client.client_id.clone(), other.client_id.clone()];
    expected.sort();
    assert_eq!(
        listed.iter().map(|(c, _)| c.clone()).collect::<Vec<_>>(),
        expected,
        "`user consents` before withdrawal"
    );
    for (c, scopes) in &listed {
        let mut scopes = scopes.clone();
        scopes.sort();
        assert_eq!(
            scopes,
            ["email", "offline_access", "openid", "profile"],
            "scopes remembered for {c}"
        );
    }

    let withdrawn = admin.revoke_consent(&user.username, &client.client_id);
    assert_eq!(
        withdrawn.get("withdrawn").and_then(Value::as_bool),
        Some(true),
        "revoke-consent output: {withdrawn}"
    );
    let after: Vec<String> = consents(&p, &user).into_iter().map(|(c, _)| c).collect();
    assert_eq!(
        after,
        [other.client_id.as_str()],
        "only the withdrawn consent should be gone"
    );

    // Withdrawing again fails: there is nothing to withdraw.
    let again = admin.run(
        &["user", "revoke-consent", &user.username, &client.client_id],
        None,
    );
    assert!(
        !again.status.success(),
        "second revoke-consent succeeded: {}",
        again.stdout
    );
    assert!(
        again.stderr.contains("has no consent"),
        "second revoke-consent stderr: {}",
        again.stderr
    );

    // The next authorization shows the consent page again (the session still spares the
    // login); the other client is still remembered.
    let req = Authorize::new(&p.server, &client);
    let page = land(&browser, &req.url())
        .await
        .expect_consent("authorization after revoke-consent");
    let req_other = Authorize::new(&p.server, &other);
    let loc = land(&browser, &req_other.url())
        .await
        .expect_client("client whose consent was kept");
    steps::assert_code(&loc, &req_other, &p.server);

    // prompt=none cannot skip the withdrawn consent either.
    let none = Authorize::new(&p.server, &client).param("prompt", "none");
    let loc = land(&browser, &none.url())
        .await
        .expect_client("prompt=none after revoke-consent");
    steps::assert_error(&loc, &none, &p.server, "consent_required");

    // Approving again remembers it again.
    let loc = steps::consent(&browser, &page, Consent::Approve)
        .await
        .expect_client("approve after revoke-consent");
    steps::assert_code(&loc, &req, &p.server);
    assert_eq!(consents(&p, &user).len(), 2, "consent not remembered again");
}

async fn prompt_none_without_consent_is_consent_required(backend: Backend) {
    let p = Provider::start(backend);
    let admin = p.admin();
    let user = admin.add_user("alice", PASSWORD);
    let first_party = admin.add_client(&ClientSpec::confidential("Ours").first_party());
    let third_party = admin.add_client(&ClientSpec::confidential("Theirs"));
    let browser = p.browser();

    // A session from a first-party client (no consent involved).
    let outcome = Authorize::new(&p.server, &first_party)
        .run(&browser, &p.server, &user)
        .await;
    assert!(!outcome.saw_consent, "first-party client asked for consent");

    let req = Authorize::new(&p.server, &third_party).param("prompt", "none");
    let first = browser.get(&req.url()).await;
    assert_eq!(first.status.as_u16(), 303, "{}", first.describe());
    let loc = Landing::from_page(&browser, first)
        .await
        .expect_client("prompt=none without consent");
    steps::assert_error(&loc, &req, &p.server, "consent_required");

    // The refusal does not grant anything: a normal request still asks.
    let req = Authorize::new(&p.server, &third_party);
    land(&browser, &req.url())
        .await
        .expect_consent("normal request after consent_required");

    // prompt=none without any session is login_required, not consent_required.
    let req = Authorize::new(&p.server, &third_party).param("prompt", "none");
    let loc = land(&p.browser(), &req.url())
        .await
        .expect_client("prompt=none without a session");
    steps::assert_error(&loc, &req, &p.server, "login_required");

    // Once approved, prompt=none yields a code.
    let req = Authorize::new(&p.server, &third_party);
    let page = land(&browser, &req.url()).await.expect_consent("approve");
    steps::consent(&browser, &page, Consent::Approve)
        .await
        .expect_client("approve");
    let req = Authorize::new(&p.server, &third_party).param("prompt", "none");
    let loc = land(&browser, &req.url())
        .await
        .expect_client("prompt=none with consent");
    let code = steps::assert_code(&loc, &req, &p.server);
    redeem_ok(
        &exchange(&p, &third_party, &req, &code).await,
        "prompt=none code",
    );
}

async fn consent_covers_only_the_scopes_granted(backend: Backend) {
    let p = Provider::start(backend);
    let admin = p.admin();
    let user = admin.add_user_with("alice", Some("alice@example.test"), None, PASSWORD);
    let client = admin.add_client(&ClientSpec::confidential("Third party"));
    let browser = p.browser();

    let req = Authorize::new(&p.server, &client).scope("openid");
    let page = consent_page(&browser, &req, &user).await;
    let loc = steps::consent(&browser, &page, Consent::Approve)
        .await
        .expect_client("approve openid");
    let code = steps::assert_code(&loc, &req, &p.server);
    let tokens = exchange(&p, &client, &req, &code).await;
    assert_eq!(
        tokens.raw["scope"], "openid",
        "granted scope of the narrow request: {}",
        tokens.raw
    );

    // The same scope again: remembered.
    let req = Authorize::new(&p.server, &client).scope("openid");
    land(&browser, &req.url())
        .await
        .expect_client("openid again");

    // More scopes than approved: asked again, and prompt=none refuses.
    let wider = Authorize::new(&p.server, &client).scope("openid email");
    land(&browser, &wider.url())
        .await
        .expect_consent("wider scope than approved");
    let none = Authorize::new(&p.server, &client)
        .scope("openid email")
        .param("prompt", "none");
    let loc = land(&browser, &none.url())
        .await
        .expect_client("prompt=none with a wider scope");
    steps::assert_error(&loc, &none, &p.server, "consent_required");

    let listed = consents(&p, &user);
    assert_eq!(
        listed,
        [(client.client_id.clone(), vec!["openid".to_string()])],
        "remembered consent"
    );

    // Userinfo of the narrow grant has no email (sanity of what was approved).
    let info = oauth::userinfo(&p.server, &tokens.access_token).await;
    info.assert_ok();
    assert!(info.str("email").is_none(), "{}", info.describe());
}
