//! The optional second factor: an account flagged with `tessera-admin user
//! second-factor USER on` must confirm a right password with its passkey;
//! another account's passkey does not do, and the ID token names both
//! methods.

use serde_json::json;
use tessera_tests::authenticator::Authenticator;
use tessera_tests::oauth::exchange_code;
use tessera_tests::passkeys::{enroll, login_ids, origin_of, post_json, provider};
use tessera_tests::{
    both_backends, browser::query_param, jwt, Authorize, Backend, ClientSpec, TokenSet, PASSWORD,
};

both_backends!(password_then_passkey_for_flagged_accounts);

async fn password_then_passkey_for_flagged_accounts(backend: Backend) {
    let p = provider(backend);
    let admin = p.admin();
    let alice = admin.add_user("alice", PASSWORD);
    let bob = admin.add_user("bob", PASSWORD);
    let client = admin.add_client(&ClientSpec::confidential("Shop").first_party());

    // The flag needs a passkey to confirm with.
    let refused = admin.run(&["user", "second-factor", "alice", "on"], None);
    assert!(!refused.status.success());
    assert!(
        refused.stderr.contains("no usable passkey"),
        "{}",
        refused.stderr
    );

    let mut alice_key = Authenticator::new();
    let mut bob_key = Authenticator::new();
    enroll(&p, &client, &alice, &mut alice_key).await;
    enroll(&p, &client, &bob, &mut bob_key).await;
    let flagged = admin.json(&["user", "second-factor", "alice", "on"], None);
    assert_eq!(flagged["passkey_second_factor"], json!(true));

    let browser = p.browser();
    let req = Authorize::new(&p.server, &client);
    let login = browser.get(&req.url()).await.expect_location();
    let page = browser.get(login.as_str()).await;
    let step = browser.submit_login(&page, "alice", PASSWORD).await;
    assert_eq!(
        step.status.as_u16(),
        200,
        "the password alone does not sign in: {}",
        step.describe()
    );
    assert!(
        step.body.contains("Now confirm with your passkey."),
        "{}",
        step.body
    );
    assert!(!step.body.contains("type=\"password\""), "{}", step.body);
    assert!(
        !browser.has_cookie("tessera_session"),
        "no session after the password alone"
    );
    let (req_id, csrf) = login_ids(&step);

    let start = |browser| {
        let (req_id, csrf) = (req_id.clone(), csrf.clone());
        let url = p.server.url("/login/passkey/start");
        async move { post_json(browser, &url, &json!({ "req": req_id, "csrf_token": csrf })).await }
    };
    let finish_url = p.server.url("/login/passkey/finish");

    // Bob's passkey cannot finish Alice's sign-in.
    let started = start(&browser).await;
    assert_eq!(started.status.as_u16(), 200, "{}", started.describe());
    let allowed = started.body["options"]["publicKey"]["allowCredentials"].clone();
    assert_eq!(
        allowed.as_array().map(Vec::len),
        Some(1),
        "only alice's key is asked for: {allowed}"
    );
    // Bob's authenticator would not answer a challenge naming only Alice's
    // key; make it sign this very challenge anyway.
    let mut options = started.body["options"].clone();
    options["publicKey"]["allowCredentials"] = json!([]);
    let foreign = bob_key.get(&options, &origin_of(&p));
    let wrong = post_json(
        &browser,
        &finish_url,
        &json!({ "req": req_id, "csrf_token": csrf,
                 "ceremony_id": started.expect_str("ceremony_id"), "credential": foreign }),
    )
    .await;
    assert_eq!(wrong.status.as_u16(), 401, "{}", wrong.describe());
    assert!(!browser.has_cookie("tessera_session"));

    // Alice's passkey does.
    let started = start(&browser).await;
    let assertion = alice_key.get(&started.body["options"], &origin_of(&p));
    let done = post_json(
        &browser,
        &finish_url,
        &json!({ "req": req_id, "csrf_token": csrf,
                 "ceremony_id": started.expect_str("ceremony_id"), "credential": assertion }),
    )
    .await;
    assert_eq!(done.status.as_u16(), 200, "{}", done.describe());
    let location = url::Url::parse(&done.expect_str("location")).expect("redirect");
    let code = query_param(&location, "code").expect("code");
    let tokens = TokenSet::from_response(
        &exchange_code(&p.server, &client, &code, Some(req.verifier())).await,
    );
    let id = jwt::decode_or_panic(tokens.id_token.as_deref().expect("id token"));
    assert_eq!(
        id.claims["amr"],
        json!(["pwd", "hwk", "user", "mfa"]),
        "{}",
        id.claims
    );
    assert_eq!(id.claims["sub"], json!(alice.id));

    // Switched off, the password alone signs in again.
    admin.json(&["user", "second-factor", "alice", "off"], None);
    let req = Authorize::new(&p.server, &client);
    let fresh = p.browser();
    let login = fresh.get(&req.url()).await.expect_location();
    let page = fresh.get(login.as_str()).await;
    let signed = fresh.submit_login(&page, "alice", PASSWORD).await;
    assert_eq!(signed.status.as_u16(), 303, "{}", signed.describe());
}
