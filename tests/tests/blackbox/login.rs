//! The login form: CSRF protection, throttling, no user enumeration, disabled accounts.

use tessera_tests::{
    both_backends, Authorize, Backend, Browser, ClientSpec, Page, Provider, RegisteredClient,
    PASSWORD,
};

const BAD_LOGIN: &str = "Invalid username or password.";

/// Starts an authorization in `browser` and returns the login page it lands on.
async fn login_page(p: &Provider, browser: &Browser, client: &RegisteredClient) -> Page {
    let req = Authorize::new(&p.server, client);
    let first = browser.get(&req.url()).await;
    assert_eq!(
        first.status.as_u16(),
        303,
        "/authorize without a session should answer 303 to /login:\n{}",
        first.describe()
    );
    let loc = first.expect_location();
    assert_eq!(loc.path(), "/login", "redirected to {loc}");
    assert!(
        loc.query_pairs().any(|(k, _)| k == "req"),
        "login redirect without req: {loc}"
    );
    assert!(
        browser.has_cookie("tessera_flow"),
        "no tessera_flow cookie after /authorize"
    );
    let page = browser.follow(loc.as_str()).await;
    assert_eq!(page.status.as_u16(), 200, "{}", page.describe());
    assert!(
        page.form("/login").is_some(),
        "no login form:\n{}",
        page.describe()
    );
    page
}

fn assert_bad_login(page: &Page, what: &str) {
    assert_eq!(page.status.as_u16(), 401, "{what}:\n{}", page.describe());
    assert!(
        page.body.contains(BAD_LOGIN),
        "{what}: 401 page lacks {BAD_LOGIN:?}:\n{}",
        page.body
    );
    assert!(
        page.form("/login").is_some(),
        "{what}: 401 page should show the form again"
    );
    assert!(
        !page.sets_cookie("tessera_session"),
        "{what}: session cookie set"
    );
}

fn assert_logged_in(page: &Page, browser: &Browser, what: &str) {
    assert_eq!(page.status.as_u16(), 303, "{what}:\n{}", page.describe());
    assert!(
        browser.has_cookie("tessera_session"),
        "{what}: no session cookie"
    );
}

both_backends!(
    wrong_csrf_token_is_refused,
    login_throttling,
    unknown_user_gets_the_same_answer,
    disabled_user_cannot_log_in,
    login_with_email,
    parallel_wrong_passwords_are_capped,
    username_and_email_share_one_counter,
    forwarded_addresses_are_believed_only_from_trusted_proxies
);

/// A wrong-password POST of `page`'s login form carrying `X-Forwarded-For: forwarded_for`;
/// the status.
async fn wrong_password_via(browser: &Browser, page: &Page, forwarded_for: &str) -> u16 {
    let form = page.form("/login").expect("login form");
    let mut fields = form.hidden();
    fields.push(("username".into(), "nobody".into()));
    fields.push(("password".into(), "wrong password".into()));
    let url = page.url.join("/login").expect("login URL");
    browser
        .client()
        .post(url)
        .header("X-Forwarded-For", forwarded_for)
        .form(&fields)
        .send()
        .await
        .expect("POST /login")
        .status()
        .as_u16()
}

/// Per-IP throttling by the forwarded client address only behind a trusted proxy: without
/// `trusted_proxies` a forged `X-Forwarded-For` does not dodge the lock on the real peer; with
/// it, one client's lock does not lock out the others behind the same proxy.
async fn forwarded_addresses_are_believed_only_from_trusted_proxies(backend: Backend) {
    for (trusted, second_client_after_lock) in [("", 429), ("127.0.0.0/8", 401)] {
        let p = Provider::start_with(
            backend,
            &[
                ("TESSERA_LOGIN_IP_MAX_FAILURES", "2"),
                ("TESSERA_LOGIN_MAX_FAILURES", "100"),
                ("TESSERA_TRUSTED_PROXIES", trusted),
            ],
        );
        let client = p.admin().add_client(&ClientSpec::confidential("Web"));
        let browser = p.browser();
        let page = login_page(&p, &browser, &client).await;
        for i in 1..=2 {
            let status = wrong_password_via(&browser, &page, "198.51.100.1").await;
            assert_eq!(status, 401, "failure #{i} (trusted_proxies={trusted:?})");
        }
        let status = wrong_password_via(&browser, &page, "198.51.100.1").await;
        assert_eq!(status, 429, "locked client (trusted_proxies={trusted:?})");
        let status = wrong_password_via(&browser, &page, "198.51.100.2").await;
        assert_eq!(
            status, second_client_after_lock,
            "another forwarded address (trusted_proxies={trusted:?})"
        );
    }
}

/// Twenty wrong passwords for one account at the same moment: at most `login_max_failures`
/// are evaluated (an ordinary "wrong password" page), every other one gets 429.
async fn parallel_wrong_passwords_are_capped(backend: Backend) {
    let p = Provider::start_with(backend, &[("TESSERA_LOGIN_MAX_FAILURES", "3")]);
    let admin = p.admin();
    admin.add_user("alice", PASSWORD);
    let client = admin.add_client(&ClientSpec::confidential("Web"));
    let mut attempts = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let browser = p.browser();
        let page = login_page(&p, &browser, &client).await;
        attempts.spawn(async move {
            browser
                .submit_login(&page, "alice", "wrong password")
                .await
                .status
                .as_u16()
        });
    }
    let statuses = attempts.join_all().await;
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    let evaluated = statuses.len() - throttled;
    eprintln!(
        "throttling: 20 parallel wrong passwords, {evaluated} evaluated, {throttled} got 429"
    );
    assert!(
        evaluated <= 3,
        "{evaluated} of 20 parallel attempts were evaluated (limit 3): {statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 429 || *s == 200 || *s == 401),
        "{statuses:?}"
    );
}

/// The counter belongs to the account, not to the identifier typed: failures by username and
/// by email add up.
async fn username_and_email_share_one_counter(backend: Backend) {
    let p = Provider::start_with(backend, &[("TESSERA_LOGIN_MAX_FAILURES", "4")]);
    let admin = p.admin();
    admin.add_user_with("alice", Some("alice@example.test"), None, PASSWORD);
    let client = admin.add_client(&ClientSpec::confidential("Web"));
    let browser = p.browser();
    let mut page = login_page(&p, &browser, &client).await;
    for (i, login) in ["alice", "alice@example.test", "ALICE", "Alice@Example.test"]
        .into_iter()
        .enumerate()
    {
        page = browser.submit_login(&page, login, "wrong password").await;
        assert_bad_login(&page, &format!("bad password #{} as {login}", i + 1));
    }
    let throttled = browser
        .submit_login(&page, "alice@example.test", PASSWORD)
        .await;
    assert_eq!(throttled.status.as_u16(), 429, "{}", throttled.describe());
}

async fn wrong_csrf_token_is_refused(backend: Backend) {
    let p = Provider::start(backend);
    let admin = p.admin();
    let user = admin.add_user("alice", PASSWORD);
    let client = admin.add_client(&ClientSpec::confidential("Web"));
    let browser = p.browser();
    let page = login_page(&p, &browser, &client).await;
    let form = page.form("/login").unwrap();

    for (what, csrf) in [
        ("wrong csrf_token", Some("forged-csrf-token")),
        ("empty csrf_token", Some("")),
        ("missing csrf_token", None),
    ] {
        let mut fields: Vec<(String, String)> = form
            .hidden()
            .into_iter()
            .filter(|(n, _)| n != "csrf_token")
            .collect();
        if let Some(c) = csrf {
            fields.push(("csrf_token".into(), c.into()));
        }
        fields.push(("username".into(), user.username.clone()));
        fields.push(("password".into(), user.password.clone()));
        let resp = browser.post_form("/login", &fields).await;
        assert!(
            resp.status.is_client_error(),
            "{what}: login POST not refused:\n{}",
            resp.describe()
        );
        assert!(
            resp.header("location").is_none(),
            "{what}: refused login redirected:\n{}",
            resp.describe()
        );
        assert!(
            !resp.sets_cookie("tessera_session"),
            "{what}: session cookie set"
        );
        assert!(
            !browser.has_cookie("tessera_session"),
            "{what}: session cookie kept"
        );
    }

    // No session was created: a new authorization still asks for a login.
    let again = login_page(&p, &browser, &client).await;
    assert!(again.form("/login").is_some());
}

async fn login_throttling(backend: Backend) {
    let p = Provider::start_with(backend, &[("TESSERA_LOGIN_MAX_FAILURES", "3")]);
    let admin = p.admin();
    let alice = admin.add_user("alice", PASSWORD);
    let bob = admin.add_user("bob", PASSWORD);
    let client = admin.add_client(&ClientSpec::confidential("Web"));

    let browser = p.browser();
    let mut page = login_page(&p, &browser, &client).await;
    for i in 1..=3 {
        page = browser
            .submit_login(&page, &alice.username, "wrong password")
            .await;
        assert_bad_login(&page, &format!("bad password #{i}"));
    }

    // The next attempt is throttled, even with the right password.
    let throttled = browser
        .submit_login(&page, &alice.username, &alice.password)
        .await;
    assert_eq!(
        throttled.status.as_u16(),
        429,
        "4th attempt after 3 failures:\n{}",
        throttled.describe()
    );
    let retry = throttled
        .header("retry-after")
        .unwrap_or_else(|| panic!("429 without Retry-After:\n{}", throttled.describe()));
    let secs: u64 = retry
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("Retry-After is not delta-seconds: {retry:?}"));
    assert!(secs >= 1, "Retry-After {secs}");
    assert!(!browser.has_cookie("tessera_session"));

    // Another account logs in fine from the same client IP.
    let other = p.browser();
    let page = login_page(&p, &other, &client).await;
    let done = other
        .submit_login(&page, &bob.username, &bob.password)
        .await;
    assert_logged_in(&done, &other, "bob while alice is throttled");
}

async fn unknown_user_gets_the_same_answer(backend: Backend) {
    let p = Provider::start(backend);
    let admin = p.admin();
    let alice = admin.add_user("alice", PASSWORD);
    let client = admin.add_client(&ClientSpec::confidential("Web"));
    let browser = p.browser();
    let page = login_page(&p, &browser, &client).await;

    let wrong_password = browser
        .submit_login(&page, &alice.username, "wrong password")
        .await;
    assert_bad_login(&wrong_password, "wrong password");
    let unknown = browser
        .submit_login(&wrong_password, "nobody-here", "wrong password")
        .await;
    assert_bad_login(&unknown, "unknown user");

    // Same message, and nothing that tells the two apart besides echoed input and tokens.
    let strip = |p: &Page| {
        let form = p.form("/login").expect("login form");
        let mut body = p.body.clone();
        for (name, value) in form.hidden() {
            if !value.is_empty() {
                body = body.replace(&value, &format!("<{name}>"));
            }
        }
        body.replace("nobody-here", "USER")
            .replace(&alice.username, "USER")
    };
    if strip(&wrong_password) != strip(&unknown) {
        let a = strip(&wrong_password);
        let b = strip(&unknown);
        let first_diff = a
            .lines()
            .zip(b.lines())
            .find(|(x, y)| x != y)
            .map(|(x, y)| format!("wrong password: {x}\nunknown user:   {y}"))
            .unwrap_or_else(|| "pages differ in length".to_string());
        panic!("the wrong-password and unknown-user pages differ:\n{first_diff}");
    }
}

async fn disabled_user_cannot_log_in(backend: Backend) {
    let p = Provider::start(backend);
    let admin = p.admin();
    let alice = admin.add_user("alice", PASSWORD);
    let client = admin.add_client(&ClientSpec::confidential("Web"));
    admin.disable_user(&alice.username);

    let browser = p.browser();
    let page = login_page(&p, &browser, &client).await;
    let resp = browser
        .submit_login(&page, &alice.username, &alice.password)
        .await;
    assert!(
        resp.status.is_client_error(),
        "disabled user was not refused:\n{}",
        resp.describe()
    );
    assert!(resp.header("location").is_none(), "{}", resp.describe());
    assert!(!browser.has_cookie("tessera_session"));

    // Enabled again, the same password works.
    admin.enable_user(&alice.username);
    let browser = p.browser();
    let page = login_page(&p, &browser, &client).await;
    let resp = browser
        .submit_login(&page, &alice.username, &alice.password)
        .await;
    assert_logged_in(&resp, &browser, "re-enabled user");
}

async fn login_with_email(backend: Backend) {
    let p = Provider::start(backend);
    let admin = p.admin();
    admin.add_user_with("alice", Some("alice@example.test"), None, PASSWORD);
    let client = admin.add_client(&ClientSpec::confidential("Web"));
    let browser = p.browser();
    let page = login_page(&p, &browser, &client).await;
    let resp = browser
        .submit_login(&page, "alice@example.test", PASSWORD)
        .await;
    assert_logged_in(&resp, &browser, "login by email");
}
