//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) refusals: unregistered
//! `post_logout_redirect_uri`s and forged `id_token_hint`s get an HTML 400 page and end
//! nothing; without a hint the user must confirm with a CSRF-protected form; ending a session
//! revokes the refresh tokens issued in it.

use std::time::Duration;

use tessera_tests::browser::query_param;
use tessera_tests::steps::{self, Landing};
use tessera_tests::{
    both_backends, jwt, oauth, Authorize, Backend, Browser, ClientSpec, Page, Provider,
    RegisteredClient, TokenSet, User, PASSWORD, RP_POST_LOGOUT_URI,
};
use url::Url;

/// A browser with a live provider session and the tokens of one code flow in it.
struct LoggedIn {
    user: User,
    client: RegisteredClient,
    browser: Browser,
    tokens: TokenSet,
}

impl LoggedIn {
    fn id_token(&self) -> &str {
        self.tokens.id_token.as_deref().expect("id_token")
    }

    /// A prompt=none request of the client.
    fn probe(&self, p: &Provider) -> Authorize {
        Authorize::new(&p.server, &self.client)
    }
}

/// Creates alice and a first-party client (so `prompt=none` needs no consent) and logs in.
async fn logged_in(p: &Provider) -> LoggedIn {
    let admin = p.admin();
    let user = admin.add_user("alice", PASSWORD);
    let client = admin.add_client(&ClientSpec::confidential("App").first_party());
    let browser = p.browser();
    let tokens = oauth::login_and_exchange(&browser, &p.server, &client, &user).await;
    let li = LoggedIn {
        user,
        client,
        browser,
        tokens,
    };
    assert!(
        steps::session_alive(&li.browser, &p.server, &li.probe(p)).await,
        "no session after login"
    );
    li
}

/// `/logout?params`.
fn logout_url(p: &Provider, params: &[(&str, &str)]) -> String {
    let mut u = Url::parse(&p.server.url("/logout")).expect("logout URL");
    if !params.is_empty() {
        let mut q = u.query_pairs_mut();
        for (k, v) in params {
            q.append_pair(k, v);
        }
    }
    u.to_string()
}

/// Asserts a refused logout: HTML 400, no Location, the session cookie left alone.
fn assert_refused(page: &Page, what: &str) {
    steps::assert_error_page(page, 400, what);
    assert!(
        !page
            .set_cookies()
            .iter()
            .any(|c| c.starts_with("tessera_session=")),
        "{what}: a refused logout touched the session cookie: {:?}",
        page.set_cookies()
    );
}

/// Asserts the session lives on and its refresh token is still active (introspection, so the
/// token is not rotated).
async fn assert_session_intact(p: &Provider, li: &LoggedIn, what: &str) {
    assert!(
        steps::session_alive(&li.browser, &p.server, &li.probe(p)).await,
        "{what}: the session ended"
    );
    assert!(
        oauth::is_active(&p.server, li.client.auth(), li.tokens.refresh()).await,
        "{what}: the session's refresh token is no longer active"
    );
}

/// The confirmation page: 200, a form posting to /logout with a csrf_token, no Location.
fn assert_confirmation(page: &Page, what: &str) -> String {
    assert_eq!(page.status.as_u16(), 200, "{what}:\n{}", page.describe());
    assert!(
        page.header("location").is_none(),
        "{what}: the confirmation redirected:\n{}",
        page.describe()
    );
    assert!(
        !page.body.contains("You are signed out"),
        "{what}: signed out without confirmation:\n{}",
        page.body
    );
    assert!(
        !page
            .set_cookies()
            .iter()
            .any(|c| c.starts_with("tessera_session=")),
        "{what}: the confirmation page touched the session cookie: {:?}",
        page.set_cookies()
    );
    let form = page
        .form("/logout")
        .unwrap_or_else(|| panic!("{what}: no confirmation form:\n{}", page.body));
    assert_eq!(
        form.method, "post",
        "{what}: the confirmation form must POST"
    );
    form.value("csrf_token")
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| panic!("{what}: confirmation form without csrf_token: {form:?}"))
        .to_string()
}

both_backends!(
    unregistered_post_logout_redirect_uri_is_an_error_page,
    forged_id_token_hint_is_an_error_page,
    logout_without_hint_needs_a_confirmed_form,
    logout_with_hint_ends_the_session_and_its_refresh_tokens,
    confirmed_logout_with_client_id_returns_to_the_registered_uri,
    expired_id_token_hint_is_accepted,
    another_users_hint_needs_a_confirmed_form
);

/// A valid ID token of another user (an attacker's own, say) is no proof that the signed-in
/// user wants to leave: the confirmation form comes up, nothing ends, and confirming it still
/// returns to the registered URI.
async fn another_users_hint_needs_a_confirmed_form(backend: Backend) {
    let p = Provider::start(backend);
    let li = logged_in(&p).await;
    let mallory = p.admin().add_user("mallory", PASSWORD);
    let theirs = oauth::login_and_exchange(&p.browser(), &p.server, &li.client, &mallory).await;
    let hint = theirs.id_token.clone().expect("id_token");
    let state = "st-1";
    let url = logout_url(
        &p,
        &[
            ("id_token_hint", hint.as_str()),
            ("post_logout_redirect_uri", RP_POST_LOGOUT_URI),
            ("state", state),
        ],
    );
    let page = li.browser.get(&url).await;
    assert_confirmation(&page, "GET /logout with another user's id_token_hint");
    assert_session_intact(&p, &li, "after another user's hint").await;

    // Confirmed by the signed-in user: the session ends and the browser goes back to the RP.
    let form = page.form("/logout").expect("confirmation form");
    let done = li.browser.submit(&page, &form, &[("confirm", "yes")]).await;
    let loc = done.expect_location();
    assert!(loc.as_str().starts_with(RP_POST_LOGOUT_URI), "{loc}");
    assert_eq!(query_param(&loc, "state").as_deref(), Some(state));
    assert!(
        !steps::session_alive(&li.browser, &p.server, &li.probe(&p)).await,
        "the session survived the confirmed logout"
    );
}

async fn unregistered_post_logout_redirect_uri_is_an_error_page(backend: Backend) {
    let p = Provider::start(backend);
    let li = logged_in(&p).await;
    let mut other_spec = ClientSpec::confidential("Other");
    other_spec.post_logout_redirect_uris = vec!["https://rp2.example.test/logged-out".into()];
    let other = p.admin().add_client(&other_spec);
    let hint = li.id_token().to_string();
    let cid = li.client.client_id.clone();

    let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        (
            "unregistered URI with a valid hint",
            vec![
                ("id_token_hint", &hint),
                (
                    "post_logout_redirect_uri",
                    "https://evil.example.test/logged-out",
                ),
                ("state", "s1"),
            ],
        ),
        (
            "unregistered URI with client_id",
            vec![
                ("client_id", &cid),
                (
                    "post_logout_redirect_uri",
                    "https://evil.example.test/logged-out",
                ),
            ],
        ),
        (
            "registered URI plus a path",
            vec![
                ("id_token_hint", &hint),
                (
                    "post_logout_redirect_uri",
                    "https://rp.example.test/logged-out/x",
                ),
            ],
        ),
        (
            "registered URI plus a query",
            vec![
                ("id_token_hint", &hint),
                (
                    "post_logout_redirect_uri",
                    "https://rp.example.test/logged-out?next=evil",
                ),
            ],
        ),
        (
            "registered URI over http",
            vec![
                ("id_token_hint", &hint),
                (
                    "post_logout_redirect_uri",
                    "http://rp.example.test/logged-out",
                ),
            ],
        ),
        (
            "another client's URI with this client's hint",
            vec![
                ("id_token_hint", &hint),
                (
                    "post_logout_redirect_uri",
                    "https://rp2.example.test/logged-out",
                ),
            ],
        ),
        (
            "client_id that does not match the hint",
            vec![
                ("id_token_hint", &hint),
                ("client_id", &other.client_id),
                (
                    "post_logout_redirect_uri",
                    "https://rp2.example.test/logged-out",
                ),
            ],
        ),
        (
            "a URI without hint or client_id",
            vec![("post_logout_redirect_uri", RP_POST_LOGOUT_URI)],
        ),
        (
            "an unknown client_id",
            vec![
                ("client_id", "no-such-client"),
                ("post_logout_redirect_uri", RP_POST_LOGOUT_URI),
            ],
        ),
    ];
    for (what, params) in &cases {
        let page = li.browser.get(&logout_url(&p, params)).await;
        assert_refused(&page, what);
        let post: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let page = li.browser.post_form("/logout", &post).await;
        assert_refused(&page, &format!("{what} (POST)"));
    }
    assert_session_intact(&p, &li, "after refused logouts").await;
}

async fn forged_id_token_hint_is_an_error_page(backend: Backend) {
    let p = Provider::start(backend);
    let li = logged_in(&p).await;
    let hint = li.id_token();
    let forged = [
        ("flipped signature bit", jwt::tamper_signature(hint)),
        (
            "edited sub",
            jwt::tamper_claims(hint, |c| c["sub"] = "someone-else".into()),
        ),
        (
            "edited iss",
            jwt::tamper_claims(hint, |c| c["iss"] = "https://evil.example.test".into()),
        ),
        ("alg none", jwt::alg_none(hint)),
        ("not a JWT", "definitely-not-a-jwt".to_string()),
        ("three garbage parts", "a.b.c".to_string()),
        // A genuine token of this provider, but an access token, not an ID token.
        ("access token as hint", li.tokens.access_token.clone()),
    ];
    for (what, token) in &forged {
        // With a registered URI the forged hint must not earn a redirect either.
        let params = [
            ("id_token_hint", token.as_str()),
            ("post_logout_redirect_uri", RP_POST_LOGOUT_URI),
            ("state", "st"),
        ];
        let page = li.browser.get(&logout_url(&p, &params)).await;
        assert_refused(&page, what);
        let page = li
            .browser
            .get(&logout_url(&p, &[("id_token_hint", token.as_str())]))
            .await;
        assert_refused(&page, &format!("{what} (no redirect URI)"));
    }
    assert_session_intact(&p, &li, "after forged hints").await;
}

async fn logout_without_hint_needs_a_confirmed_form(backend: Backend) {
    let p = Provider::start(backend);
    let li = logged_in(&p).await;

    // GET /logout without a hint: a confirmation form, and the session lives on.
    let page = li.browser.get(&logout_url(&p, &[])).await;
    let csrf = assert_confirmation(&page, "GET /logout without a hint");
    assert_session_intact(&p, &li, "after GET /logout").await;

    // The right token in a GET (an <img> or link) does not confirm.
    let page = li
        .browser
        .get(&logout_url(
            &p,
            &[("csrf_token", &csrf), ("confirm", "yes")],
        ))
        .await;
    assert_confirmation(&page, "GET /logout with the csrf_token");
    assert_session_intact(&p, &li, "after GET /logout?csrf_token").await;

    // Wrong, empty or missing tokens in the POST do not confirm.
    for (what, fields) in [
        (
            "wrong csrf_token",
            vec![("csrf_token", "forged-csrf-token"), ("confirm", "yes")],
        ),
        (
            "empty csrf_token",
            vec![("csrf_token", ""), ("confirm", "yes")],
        ),
        ("missing csrf_token", vec![("confirm", "yes")]),
    ] {
        let fields: Vec<(String, String)> = fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let page = li.browser.post_form("/logout", &fields).await;
        assert_confirmation(&page, &format!("POST /logout with a {what}"));
    }
    assert_session_intact(&p, &li, "after POSTs with bad csrf_tokens").await;

    // The right token posted by another browser (no session cookie) ends nothing here.
    let attacker = p.browser();
    let page = attacker
        .post_form(
            "/logout",
            &[
                ("csrf_token".to_string(), csrf.clone()),
                ("confirm".to_string(), "yes".to_string()),
            ],
        )
        .await;
    assert_eq!(page.status.as_u16(), 200, "{}", page.describe());
    assert_session_intact(&p, &li, "after a POST from another browser").await;
    // A refresh inside the session: its rotated successor belongs to the same family.
    let rotated =
        TokenSet::from_response(&oauth::refresh(&p.server, &li.client, li.tokens.refresh()).await);

    // The genuine form: the session ends and its refresh tokens are refused.
    let page = li.browser.get(&logout_url(&p, &[])).await;
    let form_page = page.clone();
    let form = form_page.form("/logout").expect("confirmation form");
    let done = li
        .browser
        .submit(&form_page, &form, &[("confirm", "yes")])
        .await;
    assert_eq!(done.status.as_u16(), 200, "{}", done.describe());
    assert!(
        done.body.contains("You are signed out"),
        "confirmed logout did not sign out:\n{}",
        done.body
    );
    assert!(
        !steps::session_alive(&li.browser, &p.server, &li.probe(&p)).await,
        "the session survived the confirmed logout"
    );
    // The session's current refresh token is refused (and no longer active).
    assert!(
        !oauth::is_active(&p.server, li.client.auth(), rotated.refresh()).await,
        "the session's refresh token is still active after logout"
    );
    oauth::refresh(&p.server, &li.client, rotated.refresh())
        .await
        .assert_error(400, "invalid_grant");

    // A login afterwards works and starts a new session.
    let req = Authorize::new(&p.server, &li.client);
    let page = steps::land(&li.browser, &req.url())
        .await
        .expect_login("after logout");
    let loc = steps::login(&li.browser, &page, &li.user.username, &li.user.password)
        .await
        .expect_client("login after logout");
    steps::assert_code(&loc, &req, &p.server);
}

async fn logout_with_hint_ends_the_session_and_its_refresh_tokens(backend: Backend) {
    let p = Provider::start(backend);
    let li = logged_in(&p).await;
    // A second session of the same user in another browser must survive this logout.
    let other_browser = p.browser();
    let other_tokens =
        oauth::login_and_exchange(&other_browser, &p.server, &li.client, &li.user).await;
    // A token rotated within the session belongs to the same family.
    let rotated =
        TokenSet::from_response(&oauth::refresh(&p.server, &li.client, li.tokens.refresh()).await);

    let page = li
        .browser
        .get(&logout_url(
            &p,
            &[
                ("id_token_hint", li.id_token()),
                ("post_logout_redirect_uri", RP_POST_LOGOUT_URI),
                ("state", "bye-123"),
            ],
        ))
        .await;
    assert_eq!(page.status.as_u16(), 303, "{}", page.describe());
    let loc = page.expect_location();
    let mut target = loc.clone();
    target.set_query(None);
    assert_eq!(target.as_str(), RP_POST_LOGOUT_URI, "logout went to {loc}");
    assert_eq!(query_param(&loc, "state").as_deref(), Some("bye-123"));

    assert!(
        !steps::session_alive(&li.browser, &p.server, &li.probe(&p)).await,
        "the session survived logout with a valid hint"
    );
    oauth::refresh(&p.server, &li.client, rotated.refresh())
        .await
        .assert_error(400, "invalid_grant");

    // The other browser's session and refresh token are untouched.
    assert!(
        steps::session_alive(&other_browser, &p.server, &li.probe(&p)).await,
        "logout ended another browser's session"
    );
    oauth::refresh(&p.server, &li.client, other_tokens.refresh())
        .await
        .assert_ok();

    // Logging out again with the same hint and no session: no session to end, still a
    // redirect to the registered URI.
    let page = li
        .browser
        .get(&logout_url(
            &p,
            &[
                ("id_token_hint", li.id_token()),
                ("post_logout_redirect_uri", RP_POST_LOGOUT_URI),
            ],
        ))
        .await;
    assert_eq!(page.status.as_u16(), 303, "{}", page.describe());
    let landing = Landing::from_page(&li.browser, page).await;
    let loc = landing.expect_client("second logout");
    assert!(loc.as_str().starts_with(RP_POST_LOGOUT_URI), "{loc}");
}

async fn expired_id_token_hint_is_accepted(backend: Backend) {
    let p = Provider::start_with(backend, &[("TESSERA_ID_TOKEN_TTL_SECS", "1")]);
    let li = logged_in(&p).await;
    tokio::time::sleep(Duration::from_millis(2200)).await;
    // RP-Initiated Logout 1.0 section 2: the OP should accept an expired hint it issued.
    let page = li
        .browser
        .get(&logout_url(
            &p,
            &[
                ("id_token_hint", li.id_token()),
                ("post_logout_redirect_uri", RP_POST_LOGOUT_URI),
            ],
        ))
        .await;
    assert_eq!(page.status.as_u16(), 303, "{}", page.describe());
    assert!(
        page.expect_location()
            .as_str()
            .starts_with(RP_POST_LOGOUT_URI),
        "{}",
        page.describe()
    );
    assert!(
        !steps::session_alive(&li.browser, &p.server, &li.probe(&p)).await,
        "the session survived logout with an expired hint"
    );
    // ...but a tampered expired one is still refused.
    let page = li
        .browser
        .get(&logout_url(
            &p,
            &[("id_token_hint", &jwt::tamper_signature(li.id_token()))],
        ))
        .await;
    assert_refused(&page, "tampered expired hint");
}

async fn confirmed_logout_with_client_id_returns_to_the_registered_uri(backend: Backend) {
    let p = Provider::start(backend);
    let li = logged_in(&p).await;
    // No hint, but client_id and a registered post_logout_redirect_uri: confirmation first.
    let page = li
        .browser
        .get(&logout_url(
            &p,
            &[
                ("client_id", &li.client.client_id),
                ("post_logout_redirect_uri", RP_POST_LOGOUT_URI),
                ("state", "bye-456"),
            ],
        ))
        .await;
    assert_confirmation(&page, "logout with client_id and no hint");
    assert_session_intact(&p, &li, "after the confirmation page").await;

    let form = page.form("/logout").expect("confirmation form");
    let done = li.browser.submit(&page, &form, &[("confirm", "yes")]).await;
    assert!(
        !steps::session_alive(&li.browser, &p.server, &li.probe(&p)).await,
        "the session survived the confirmed logout"
    );
    oauth::refresh(&p.server, &li.client, li.tokens.refresh())
        .await
        .assert_error(400, "invalid_grant");
    // After confirming, the browser goes back to the validated URI with the state.
    assert_eq!(done.status.as_u16(), 303, "{}", done.describe());
    let loc = done.expect_location();
    assert!(
        loc.as_str().starts_with(tessera_tests::RP_POST_LOGOUT_URI),
        "confirmed logout went to {loc}"
    );
    assert_eq!(
        tessera_tests::browser::query_param(&loc, "state").as_deref(),
        Some("bye-456"),
        "state lost: {loc}"
    );
}
