//! Adding or removing a passkey needs a recent sign-in: a token or session
//! older than `passkey_recent_auth_secs` (2 s here, 300 s by default) is
//! refused, at the API with RFC 9470's `insufficient_user_authentication`.

use serde_json::json;
use std::time::Duration;
use tessera_tests::oauth::{self, JsonResponse};
use tessera_tests::passkeys::{enrolled, post_json, Enrolled};
use tessera_tests::{both_backends, Backend, PASSWORD};

both_backends!(old_authentications_cannot_manage_passkeys);

const OLDER_THAN_WINDOW: Duration = Duration::from_millis(3100);

async fn old_authentications_cannot_manage_passkeys(backend: Backend) {
    let Enrolled {
        p,
        user,
        client,
        authn,
    } = enrolled(backend, &[("TESSERA_PASSKEY_RECENT_AUTH_SECS", "2")]).await;
    let admin = p.admin();

    // An API token whose sign-in is too old.
    let token = oauth::login_and_exchange(&p.browser(), &p.server, &client, &user)
        .await
        .access_token;
    // A browser session on the account page, signed in with the password.
    let browser = p.browser();
    let login = browser
        .get(&p.server.url("/account"))
        .await
        .expect_location();
    let page = browser
        .get(
            &p.server
                .url(&format!("{}?{}", login.path(), login.query().unwrap_or(""))),
        )
        .await;
    let signed = browser.submit_login(&page, "alice", PASSWORD).await;
    assert_eq!(
        signed.expect_location().path(),
        "/account",
        "{}",
        signed.describe()
    );
    tokio::time::sleep(OLDER_THAN_WINDOW).await;

    let resp = oauth::http()
        .post(p.server.url("/passkeys/registration/start"))
        .bearer_auth(&token)
        .json(&json!({ "name": "Late" }))
        .send()
        .await
        .unwrap();
    let resp = JsonResponse::read(resp).await;
    assert_eq!(resp.status.as_u16(), 401, "{}", resp.describe());
    assert_eq!(resp.str("error"), Some("insufficient_user_authentication"));
    let challenge = resp.header("www-authenticate").unwrap_or("");
    assert!(
        challenge.contains("insufficient_user_authentication") && challenge.contains("max_age=2"),
        "{challenge}"
    );

    let page = browser.get(&p.server.url("/account")).await;
    assert!(page.body.contains("confirm it is you"), "{}", page.body);
    assert!(
        !page.body.contains("/assets/account.js"),
        "no add button: {}",
        page.body
    );
    let csrf = {
        let marker = "name=\"csrf_token\" value=\"";
        let start = page.body.find(marker).expect("csrf") + marker.len();
        page.body[start..start + page.body[start..].find('"').unwrap()].to_string()
    };
    let started = post_json(
        &browser,
        &p.server.url("/account/passkeys/registration/start"),
        &json!({ "csrf_token": csrf, "name": "Late" }),
    )
    .await;
    assert_eq!(started.status.as_u16(), 403, "{}", started.describe());
    let id = authn.only().id_b64();
    let removed = browser
        .post_form(
            &p.server.url("/account/passkeys/remove"),
            &[("csrf_token".into(), csrf), ("id".into(), id)],
        )
        .await;
    assert_eq!(removed.status.as_u16(), 403, "{}", removed.describe());
    assert_eq!(
        admin
            .json(&["user", "passkeys", "alice"], None)
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}
