//! `passkey_counter_regression = log`: a counter that went backwards is
//! recorded in the audit log and the sign-in is allowed (for authenticators
//! known to reset counters); the default (`refuse`) is tested in
//! passkeys_api.rs. Forged assertions are still refused in log mode.

use serde_json::json;
use tessera_tests::authenticator::{Authenticator, Forge};
use tessera_tests::passkeys::{
    enrolled, login_ids, origin_of, post_json, sign_in_on_login_page, Enrolled,
};
use tessera_tests::{both_backends, Authorize, Backend};

both_backends!(log_policy_records_and_allows_a_counter_regression);

async fn log_policy_records_and_allows_a_counter_regression(backend: Backend) {
    let Enrolled {
        p,
        user: _,
        client,
        mut authn,
    } = enrolled(backend, &[("TESSERA_PASSKEY_COUNTER_REGRESSION", "log")]).await;
    let admin = p.admin();
    let id = authn.only().id_b64();

    authn.set_counter(&id, 10);
    let first = sign_in(&p, &client, &mut authn).await;
    assert_eq!(first.status.as_u16(), 200, "{}", first.describe());

    authn.set_counter(&id, 3);
    let regressed = sign_in(&p, &client, &mut authn).await;
    assert_eq!(
        regressed.status.as_u16(),
        200,
        "log policy lets it through: {}",
        regressed.describe()
    );
    let listed = admin.json(&["user", "passkeys", "alice"], None);
    assert_eq!(listed[0]["possibly_cloned"], json!(false), "{listed}");
    let events = admin.json(&["audit", "--limit", "50"], None);
    let recorded = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "passkey.possibly_cloned")
        .unwrap_or_else(|| panic!("no passkey.possibly_cloned event: {events}"));
    assert_eq!(recorded["detail"]["refused"], json!(false));

    // Log mode relaxes the counter only: a bad signature is still refused.
    let browser = p.browser();
    let req = Authorize::new(&p.server, &client);
    let login = browser.get(&req.url()).await.expect_location();
    let page = browser.get(login.as_str()).await;
    let (req_id, csrf) = login_ids(&page);
    let started = post_json(
        &browser,
        &p.server.url("/login/passkey/start"),
        &json!({ "req": req_id, "csrf_token": csrf }),
    )
    .await;
    authn.set_counter(&id, 1);
    let forged = authn.get_with(
        &started.body["options"],
        &origin_of(&p),
        &Forge::bad_signature(),
    );
    let refused = post_json(
        &browser,
        &p.server.url("/login/passkey/finish"),
        &json!({ "req": req_id, "csrf_token": csrf,
                 "ceremony_id": started.expect_str("ceremony_id"), "credential": forged }),
    )
    .await;
    assert_eq!(refused.status.as_u16(), 401, "{}", refused.describe());
}

async fn sign_in(
    p: &tessera_tests::Provider,
    client: &tessera_tests::RegisteredClient,
    authn: &mut Authenticator,
) -> tessera_tests::JsonResponse {
    let browser = p.browser();
    let req = Authorize::new(&p.server, client);
    let login = browser.get(&req.url()).await.expect_location();
    sign_in_on_login_page(p, &browser, login.as_str(), authn).await
}
