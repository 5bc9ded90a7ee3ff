//! The account page, as a browser uses it: sign-in through the login page
//! (here with a passkey, for a passwordless account), the passkey list,
//! rename, and the refusals: a forged CSRF token, removing the last way to
//! sign in, and making an account passwordless without a passkey.

use serde_json::json;
use tessera_tests::authenticator::Authenticator;
use tessera_tests::passkeys::{enroll, enrolled, provider, sign_in_on_login_page, Enrolled};
use tessera_tests::{both_backends, Backend, ClientSpec, PASSWORD};

both_backends!(
    passwordless_account_manages_its_passkey,
    removing_a_passkey_ends_the_other_sessions_not_this_one
);

/// Removing a credential ends the user's other browser sessions and grants; the session that
/// removed it goes on under a new cookie.
async fn removing_a_passkey_ends_the_other_sessions_not_this_one(backend: Backend) {
    let Enrolled {
        p,
        user,
        client,
        authn: _,
    } = enrolled(backend, &[]).await;
    let _admin = p.admin();

    // Another device: a browser session and a grant.
    let other = p.browser();
    let tokens = tessera_tests::oauth::login_and_exchange(&other, &p.server, &client, &user).await;

    // This browser signs in with the password on the account page.
    let browser = p.browser();
    let start = browser.get(&p.server.url("/account")).await;
    let login = browser.follow(start.expect_location().as_str()).await;
    let done = browser.submit_login(&login, "alice", PASSWORD).await;
    assert_eq!(
        done.expect_location().path(),
        "/account",
        "{}",
        done.describe()
    );
    let page = browser.get(&p.server.url("/account")).await;
    assert_eq!(page.status.as_u16(), 200, "{}", page.describe());
    let removed = browser
        .post_form(
            &p.server.url("/account/passkeys/remove"),
            &[
                ("csrf_token".into(), hidden_value(&page.body, "csrf_token")),
                ("id".into(), hidden_value(&page.body, "id")),
            ],
        )
        .await;
    assert_eq!(removed.status.as_u16(), 303, "{}", removed.describe());
    assert!(
        removed.sets_cookie("tessera_session"),
        "no new session cookie"
    );

    let page = browser.get(&p.server.url("/account")).await;
    assert_eq!(
        page.status.as_u16(),
        200,
        "this session ended: {}",
        page.describe()
    );
    assert!(
        !tessera_tests::steps::session_alive(
            &other,
            &p.server,
            &tessera_tests::Authorize::new(&p.server, &client)
        )
        .await,
        "the other browser's session survived the removal"
    );
    assert!(
        !tessera_tests::oauth::is_active(&p.server, client.auth(), &tokens.access_token).await,
        "the other device's access token survived the removal"
    );
}

fn hidden_value(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name}: {body}"))
        + marker.len();
    let end = body[start..].find('"').expect("closing quote") + start;
    body[start..end].to_string()
}

async fn passwordless_account_manages_its_passkey(backend: Backend) {
    let p = provider(backend);
    let admin = p.admin();
    let user = admin.add_user("alice", PASSWORD);
    let client = admin.add_client(&ClientSpec::confidential("Shop").first_party());
    let mut authn = Authenticator::new();

    // Without a passkey the password cannot be removed.
    let refused = admin.run(&["user", "remove-password", "alice"], None);
    assert!(!refused.status.success(), "{}", refused.stdout);
    assert!(
        refused.stderr.contains("no usable passkey"),
        "{}",
        refused.stderr
    );

    enroll(&p, &client, &user, &mut authn).await;
    let now_passwordless = admin.json(&["user", "remove-password", "alice"], None);
    assert_eq!(now_passwordless["has_password"], json!(false));

    // The account page sends an anonymous browser through the login page.
    let browser = p.browser();
    let resp = browser.get(&p.server.url("/account")).await;
    let login = resp.expect_location();
    assert_eq!(login.path(), "/login", "{}", resp.describe());
    let done = sign_in_on_login_page(&p, &browser, login.as_str(), &mut authn).await;
    assert_eq!(done.status.as_u16(), 200, "{}", done.describe());
    assert_eq!(done.str("location"), Some("/account"));

    let page = browser.get(&p.server.url("/account")).await;
    assert_eq!(page.status.as_u16(), 200, "{}", page.describe());
    assert!(
        page.body.contains("Signed in as <strong>alice</strong>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Phone"), "{}", page.body);
    assert!(
        page.body.contains("/assets/account.js"),
        "add button offered after a fresh sign-in"
    );
    let csrf = hidden_value(&page.body, "csrf_token");
    let passkey_id = hidden_value(&page.body, "id");

    // Rename: refused with a forged CSRF token, done with the real one.
    let forged = browser
        .post_form(
            &p.server.url("/account/passkeys/rename"),
            &[
                ("csrf_token".into(), "forged".into()),
                ("id".into(), passkey_id.clone()),
                ("name".into(), "Evil".into()),
            ],
        )
        .await;
    assert_eq!(forged.status.as_u16(), 403, "{}", forged.describe());
    let renamed = browser
        .post_form(
            &p.server.url("/account/passkeys/rename"),
            &[
                ("csrf_token".into(), csrf.clone()),
                ("id".into(), passkey_id.clone()),
                ("name".into(), "Work phone".into()),
            ],
        )
        .await;
    assert_eq!(renamed.status.as_u16(), 303, "{}", renamed.describe());
    let listed = admin.json(&["user", "passkeys", "alice"], None);
    assert_eq!(listed[0]["name"], json!("Work phone"), "{listed}");

    // Removing the only passkey of a passwordless account is refused.
    let removed = browser
        .post_form(
            &p.server.url("/account/passkeys/remove"),
            &[
                ("csrf_token".into(), csrf.clone()),
                ("id".into(), passkey_id.clone()),
            ],
        )
        .await;
    assert_eq!(removed.status.as_u16(), 400, "{}", removed.describe());
    assert!(
        removed.body.contains("last way to sign in"),
        "{}",
        removed.body
    );
    assert_eq!(
        admin
            .json(&["user", "passkeys", "alice"], None)
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    // A forged CSRF token cannot remove it either, nor can another browser.
    let other = p.browser();
    let anonymous = other
        .post_form(
            &p.server.url("/account/passkeys/remove"),
            &[("csrf_token".into(), csrf), ("id".into(), passkey_id)],
        )
        .await;
    assert_eq!(
        anonymous.status.as_u16(),
        303,
        "no session: sent to sign in"
    );
    assert_eq!(anonymous.expect_location().path(), "/login");
}
