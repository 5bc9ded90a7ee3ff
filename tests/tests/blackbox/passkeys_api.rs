//! The passkey JSON API (`/passkeys/registration/*`, `/passkeys/authentication/*`) driven by
//! the software authenticator of `tessera_tests::authenticator`: registration behind a fresh
//! user token, discoverable and username-first sign-in ending in a code redeemed with PKCE, the
//! ID token's `amr`/`acr`, and every refusal with its exact status and code, with nothing stored
//! by a refused finish.
//!
//! WebAuthn RP ids are domains and the test issuer is `http://127.0.0.1:PORT`, so the provider
//! runs with `TESSERA_WEBAUTHN_RP_ID=localhost` and the extra origin `http://localhost` (any
//! port for localhost); the authenticator speaks from `http://localhost:PORT`.
//!
//! `insufficient_user_authentication` for a token whose sign-in is too old is tested in
//! `passkeys_recent_auth.rs`, with a short `passkey_recent_auth_secs`.

use serde_json::{json, Value};
use tessera_tests::authenticator::{b64, Authenticator, Flags, Forge};
use tessera_tests::oauth::{self, exchange_code, get_json, JsonResponse, Pkce};
use tessera_tests::{
    both_backends, jwt, Authorize, Backend, ClientSpec, Provider, RegisteredClient, TokenSet, User,
    PASSWORD,
};

both_backends!(
    register_and_sign_in_with_and_without_username,
    synced_passkey_is_a_software_key,
    registration_needs_a_user_token_and_a_json_body,
    unknown_and_replayed_ceremonies,
    ceremonies_are_bound_to_who_started_them,
    forged_registrations_are_refused,
    forged_assertions_are_refused_and_change_nothing,
    counter_regression_blocks_the_passkey,
    cloned_authenticator_is_detected,
    credential_id_registered_twice,
    removed_passkey_no_longer_signs_in,
    third_party_client_needs_consent,
    third_party_token_cannot_add_a_passkey,
    passkeys_are_off_for_an_ip_issuer_without_rp_id,
);

const RP_ID: &str = "localhost";

/// A provider with passkeys on (RP id `localhost`), a user and a first-party public app.
struct Fixture {
    p: Provider,
    user: User,
    app: RegisteredClient,
    /// `http://localhost:PORT`: what a page served by the provider would send.
    origin: String,
}

fn provider(backend: Backend) -> Provider {
    Provider::start_with(
        backend,
        &[
            ("TESSERA_WEBAUTHN_RP_ID", RP_ID),
            ("TESSERA_WEBAUTHN_ORIGINS", "http://localhost"),
        ],
    )
}

fn origin_of(p: &Provider) -> String {
    let base = url::Url::parse(p.server.base_url()).expect("base URL");
    format!(
        "http://localhost:{}",
        base.port().expect("port in base URL")
    )
}

fn fixture(backend: Backend) -> Fixture {
    let p = provider(backend);
    let admin = p.admin();
    let user = admin.add_user_with("alice", None, Some("Alice Liddell"), PASSWORD);
    let app = admin.add_client(&ClientSpec::public("Shop app").first_party());
    let origin = origin_of(&p);
    Fixture {
        p,
        user,
        app,
        origin,
    }
}

async fn post(p: &Provider, path: &str, bearer: Option<&str>, body: &Value) -> JsonResponse {
    let mut req = oauth::http().post(p.server.url(path)).json(body);
    if let Some(token) = bearer {
        req = req.bearer_auth(token);
    }
    let resp = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {path}: {e}"));
    JsonResponse::read(resp).await
}

fn assert_status(resp: &JsonResponse, status: u16, what: &str) {
    assert_eq!(
        resp.status.as_u16(),
        status,
        "{what}: expected {status}, got {}",
        resp.describe()
    );
}

/// An access token from a fresh password sign-in of `user` at `client` (browser flow).
async fn fresh_token(p: &Provider, client: &RegisteredClient, user: &User) -> String {
    oauth::login_and_exchange(&p.browser(), &p.server, client, user)
        .await
        .access_token
}

async fn registration_start(p: &Provider, token: &str, name: &str) -> JsonResponse {
    post(
        p,
        "/passkeys/registration/start",
        Some(token),
        &json!({ "name": name }),
    )
    .await
}

/// Starts a registration and asserts the options are those of a discoverable ES256 passkey
/// with user verification for `user`; returns the response.
async fn registration_started(p: &Provider, token: &str, user: &User) -> JsonResponse {
    let started = registration_start(p, token, "Test phone").await;
    assert_status(&started, 200, "registration start");
    assert_eq!(started.header("cache-control"), Some("no-store"));
    let pk = &started.body["options"]["publicKey"];
    assert_eq!(pk["rp"]["id"], RP_ID, "rp id: {pk}");
    assert_eq!(pk["user"]["name"], json!(user.username), "user: {pk}");
    assert_eq!(
        pk["user"]["id"],
        json!(b64(uuid::Uuid::parse_str(&user.id)
            .expect("user ids are UUIDs")
            .as_bytes())),
        "the user handle is the user id's UUID bytes: {pk}"
    );
    assert_eq!(
        pk["authenticatorSelection"]["residentKey"], "required",
        "{pk}"
    );
    assert_eq!(
        pk["authenticatorSelection"]["userVerification"], "required",
        "{pk}"
    );
    started
}

async fn registration_finish(
    p: &Provider,
    token: &str,
    ceremony_id: &str,
    credential: &Value,
) -> JsonResponse {
    post(
        p,
        "/passkeys/registration/finish",
        Some(token),
        &json!({ "ceremony_id": ceremony_id, "credential": credential }),
    )
    .await
}

/// Registers a new passkey on `authn` through the API; asserts 201 and returns the info.
async fn register(f: &Fixture, token: &str, authn: &mut Authenticator) -> Value {
    let started = registration_started(&f.p, token, &f.user).await;
    let credential = authn.create(&started.body, &f.origin);
    let done =
        registration_finish(&f.p, token, &started.expect_str("ceremony_id"), &credential).await;
    assert_status(&done, 201, "registration finish");
    assert_eq!(done.header("cache-control"), Some("no-store"));
    let info = done.body.clone();
    assert_eq!(
        info["id"], credential["id"],
        "passkey id = credential id: {info}"
    );
    assert_eq!(info["name"], "Test phone", "{info}");
    assert_eq!(info["last_used_at"], Value::Null, "{info}");
    assert_eq!(info["possibly_cloned"], false, "{info}");
    assert!(info["created_at"].is_i64(), "{info}");
    info
}

/// An authentication ceremony in progress: the authorization parameters sent with it.
struct SignIn {
    client_id: String,
    redirect_uri: String,
    state: String,
    nonce: String,
    pkce: Pkce,
    ceremony_id: String,
    options: Value,
}

fn authorization_body(client: &RegisteredClient, state: &str, nonce: &str, pkce: &Pkce) -> Value {
    json!({
        "client_id": client.client_id,
        "redirect_uri": client.redirect(),
        "response_type": "code",
        "scope": "openid profile email offline_access",
        "state": state,
        "nonce": nonce,
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
    })
}

async fn sign_in_start(p: &Provider, client: &RegisteredClient, username: Option<&str>) -> SignIn {
    let state = tessera_tests::random_token(16);
    let nonce = tessera_tests::random_token(16);
    let pkce = Pkce::new();
    let mut body = authorization_body(client, &state, &nonce, &pkce);
    if let Some(u) = username {
        body["username"] = json!(u);
    }
    let started = post(p, "/passkeys/authentication/start", None, &body).await;
    assert_status(&started, 200, "authentication start");
    assert_eq!(started.header("cache-control"), Some("no-store"));
    let options = started.body["options"].clone();
    assert_eq!(options["publicKey"]["rpId"], RP_ID, "{options}");
    assert_eq!(
        options["publicKey"]["userVerification"], "required",
        "{options}"
    );
    SignIn {
        client_id: client.client_id.clone(),
        redirect_uri: client.redirect().to_string(),
        state,
        nonce,
        pkce,
        ceremony_id: started.expect_str("ceremony_id"),
        options,
    }
}

/// The credential ids in `allowCredentials`.
fn allowed(sign_in: &SignIn) -> Vec<String> {
    sign_in.options["publicKey"]["allowCredentials"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| c["id"].as_str().expect("credential id").to_string())
                .collect()
        })
        .unwrap_or_default()
}

async fn sign_in_finish(
    p: &Provider,
    client_id: &str,
    ceremony_id: &str,
    credential: &Value,
) -> JsonResponse {
    post(
        p,
        "/passkeys/authentication/finish",
        None,
        &json!({ "client_id": client_id, "ceremony_id": ceremony_id, "credential": credential }),
    )
    .await
}

/// Start, answer with `authn` (forged by `forge`) from `origin`, finish.
async fn sign_in_with(
    f: &Fixture,
    client: &RegisteredClient,
    authn: &mut Authenticator,
    username: Option<&str>,
    origin: &str,
    forge: &Forge,
) -> (SignIn, JsonResponse) {
    let s = sign_in_start(&f.p, client, username).await;
    let assertion = authn.get_with(&s.options, origin, forge);
    let done = sign_in_finish(&f.p, &s.client_id, &s.ceremony_id, &assertion).await;
    (s, done)
}

async fn sign_in(
    f: &Fixture,
    authn: &mut Authenticator,
    username: Option<&str>,
) -> (SignIn, JsonResponse) {
    sign_in_with(f, &f.app, authn, username, &f.origin, &Forge::default()).await
}
/// Asserts a successful finish (state, iss, redirect_uri echoed) and redeems its code with the
/// PKCE verifier of the start.
async fn redeem(
    p: &Provider,
    client: &RegisteredClient,
    s: &SignIn,
    done: &JsonResponse,
) -> TokenSet {
    assert_status(done, 200, "authentication finish");
    assert_eq!(done.header("cache-control"), Some("no-store"));
    assert_eq!(
        done.str("state"),
        Some(s.state.as_str()),
        "{}",
        done.describe()
    );
    assert_eq!(
        done.str("iss"),
        Some(p.server.issuer()),
        "{}",
        done.describe()
    );
    assert_eq!(
        done.str("redirect_uri"),
        Some(s.redirect_uri.as_str()),
        "{}",
        done.describe()
    );
    let code = done.expect_str("code");
    TokenSet::from_response(&exchange_code(&p.server, client, &code, Some(&s.pkce.verifier)).await)
}

/// The verified ID token's claims, checked against the sign-in and the user.
async fn id_claims(p: &Provider, tokens: &TokenSet, s: &SignIn, user: &User) -> Value {
    let id_token = tokens
        .id_token
        .as_deref()
        .unwrap_or_else(|| panic!("no id_token: {}", tokens.raw));
    let jwks = get_json(&p.server.url("/jwks")).await;
    let claims = jwt::verify(id_token, jwks.assert_ok())
        .unwrap_or_else(|e| panic!("ID token does not verify: {e}"))
        .claims;
    assert_eq!(claims["iss"], json!(p.server.issuer()), "{claims}");
    assert_eq!(claims["sub"], json!(user.id), "{claims}");
    assert_eq!(claims["nonce"], json!(s.nonce), "{claims}");
    let aud_ok = match &claims["aud"] {
        Value::String(a) => *a == s.client_id,
        Value::Array(a) => a.iter().any(|x| *x == json!(s.client_id)),
        _ => false,
    };
    assert!(aud_ok, "aud is not the client: {claims}");
    let auth_time = claims["auth_time"]
        .as_i64()
        .unwrap_or_else(|| panic!("no auth_time: {claims}"));
    assert!(
        (tessera_tests::now_secs() - auth_time).abs() < 60,
        "auth_time is not the sign-in: {claims}"
    );
    claims
}

fn assert_methods(claims: &Value, amr: &[&str], acr: &str) {
    assert_eq!(claims["amr"], json!(amr), "amr: {claims}");
    assert_eq!(claims["acr"], json!(acr), "acr: {claims}");
}

/// `tessera-admin user passkeys USER --json`.
fn passkeys(p: &Provider, user: &User) -> Vec<Value> {
    let listed = p.admin().json(&["user", "passkeys", &user.username], None);
    listed
        .as_array()
        .unwrap_or_else(|| panic!("`user passkeys --json` is not an array: {listed}"))
        .clone()
}

/// The one listed passkey of `user`.
fn only_passkey(p: &Provider, user: &User) -> Value {
    let all = passkeys(p, user);
    assert_eq!(all.len(), 1, "expected exactly one passkey: {all:?}");
    all[0].clone()
}

/// A wrong origin that is neither the issuer's nor a configured one.
fn evil_origin(f: &Fixture) -> String {
    f.origin.replace("localhost", "evil.example.test")
}

async fn register_and_sign_in_with_and_without_username(backend: Backend) {
    let f = fixture(backend);
    let token = fresh_token(&f.p, &f.app, &f.user).await;
    let mut authn = Authenticator::new();
    let info = register(&f, &token, &mut authn).await;
    // Documented: counted as synced (the weaker claim) until the first assertion.
    assert_eq!(info["kind"], "synced", "{info}");
    let id = info["id"].as_str().unwrap().to_string();
    let listed = only_passkey(&f.p, &f.user);
    assert_eq!(listed["id"], json!(id), "{listed}");
    assert_eq!(listed["name"], "Test phone", "{listed}");

    // Discoverable: no username, nothing named in the challenge.
    let (s, done) = sign_in(&f, &mut authn, None).await;
    assert!(
        allowed(&s).is_empty(),
        "discoverable challenge names credentials: {}",
        s.options
    );
    let tokens = redeem(&f.p, &f.app, &s, &done).await;
    let claims = id_claims(&f.p, &tokens, &s, &f.user).await;
    assert_methods(&claims, &["hwk", "user", "mfa"], "phrh");
    let me = oauth::userinfo(&f.p.server, &tokens.access_token).await;
    assert_eq!(me.assert_ok()["sub"], json!(f.user.id), "{}", me.describe());

    let listed = only_passkey(&f.p, &f.user);
    assert_eq!(
        listed["kind"], "device-bound",
        "after a BE=0 assertion: {listed}"
    );
    assert!(
        listed["last_used_at"].is_i64(),
        "last_used_at not set: {listed}"
    );
    assert_eq!(listed["possibly_cloned"], false, "{listed}");

    // A username changes nothing: an anonymous caller never learns whether an account
    // exists or which credentials it has. Known and unknown names get the same answer shape.
    let (s, done) = sign_in(&f, &mut authn, Some("alice")).await;
    assert!(
        allowed(&s).is_empty(),
        "credentials listed for a username: {}",
        s.options
    );
    let tokens = redeem(&f.p, &f.app, &s, &done).await;
    let claims = id_claims(&f.p, &tokens, &s, &f.user).await;
    assert_methods(&claims, &["hwk", "user", "mfa"], "phrh");
    let known = sign_in_start(&f.p, &f.app, Some("alice")).await;
    let unknown = sign_in_start(&f.p, &f.app, Some("nobody")).await;
    let shape = |s: &SignIn| {
        let mut public_key = s.options["publicKey"].clone();
        public_key["challenge"] = Value::Null;
        public_key
    };
    assert_eq!(
        shape(&known),
        shape(&unknown),
        "known and unknown usernames differ"
    );

    // The code is bound to the PKCE challenge sent with the start...
    let (_, done) = sign_in(&f, &mut authn, None).await;
    assert_status(&done, 200, "third sign-in");
    let wrong = Pkce::new();
    exchange_code(
        &f.p.server,
        &f.app,
        &done.expect_str("code"),
        Some(&wrong.verifier),
    )
    .await
    .assert_error(400, "invalid_grant");
    // ...and single use, like any code.
    let (s, done) = sign_in(&f, &mut authn, None).await;
    redeem(&f.p, &f.app, &s, &done).await;
    exchange_code(
        &f.p.server,
        &f.app,
        &done.expect_str("code"),
        Some(&s.pkce.verifier),
    )
    .await
    .assert_error(400, "invalid_grant");
}

async fn synced_passkey_is_a_software_key(backend: Backend) {
    let f = fixture(backend);
    let token = fresh_token(&f.p, &f.app, &f.user).await;
    let mut authn = Authenticator::with_flags(Flags::synced());
    register(&f, &token, &mut authn).await;
    for username in [None, Some("alice")] {
        let (s, done) = sign_in(&f, &mut authn, username).await;
        let tokens = redeem(&f.p, &f.app, &s, &done).await;
        let claims = id_claims(&f.p, &tokens, &s, &f.user).await;
        assert_methods(&claims, &["swk", "user", "mfa"], "phr");
    }
    assert_eq!(only_passkey(&f.p, &f.user)["kind"], "synced");
}

async fn registration_needs_a_user_token_and_a_json_body(backend: Backend) {
    let f = fixture(backend);
    let body = json!({ "name": "Test phone" });

    // No token: 401 with a bare Bearer challenge (RFC 6750 3.1).
    let resp = post(&f.p, "/passkeys/registration/start", None, &body).await;
    assert_status(&resp, 401, "no token");
    let www = resp
        .header("www-authenticate")
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(www.starts_with("bearer"), "{}", resp.describe());
    let resp = post(&f.p, "/passkeys/registration/finish", None, &body).await;
    assert_status(&resp, 401, "finish without a token");

    // A token that is not one, and a token without a user (client_credentials).
    oauth::assert_invalid_token(
        &post(
            &f.p,
            "/passkeys/registration/start",
            Some("not-a-token"),
            &body,
        )
        .await,
    );
    let service = f.p.admin().add_client(&ClientSpec::service("Backend"));
    let machine = TokenSet::from_response(
        &oauth::token(
            &f.p.server,
            service.auth(),
            &[("grant_type", "client_credentials"), ("scope", "api.read")],
        )
        .await,
    );
    oauth::assert_invalid_token(
        &post(
            &f.p,
            "/passkeys/registration/start",
            Some(&machine.access_token),
            &body,
        )
        .await,
    );

    // A user token, but a bad body.
    let token = fresh_token(&f.p, &f.app, &f.user).await;
    registration_start(&f.p, &token, "")
        .await
        .assert_error(400, "invalid_request");
    registration_start(&f.p, &token, &"x".repeat(65))
        .await
        .assert_error(400, "invalid_request");
    let form = oauth::http()
        .post(f.p.server.url("/passkeys/registration/start"))
        .bearer_auth(&token)
        .form(&[("name", "Test phone")])
        .send()
        .await
        .expect("POST form");
    JsonResponse::read(form)
        .await
        .assert_error(400, "invalid_request");
    let garbage = oauth::http()
        .post(f.p.server.url("/passkeys/registration/start"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"name\":")
        .send()
        .await
        .expect("POST garbage");
    JsonResponse::read(garbage)
        .await
        .assert_error(400, "invalid_request");
    assert!(passkeys(&f.p, &f.user).is_empty());
}

async fn unknown_and_replayed_ceremonies(backend: Backend) {
    let f = fixture(backend);
    let token = fresh_token(&f.p, &f.app, &f.user).await;
    let mut authn = Authenticator::new();

    // Registration finished under a ceremony id nobody started; the real one is untouched.
    let started = registration_started(&f.p, &token, &f.user).await;
    let ceremony = started.expect_str("ceremony_id");
    let credential = authn.create(&started.body, &f.origin);
    for bogus in [
        tessera_tests::random_token(32),
        String::new(),
        "x".repeat(65),
    ] {
        registration_finish(&f.p, &token, &bogus, &credential)
            .await
            .assert_error(400, "invalid_request");
    }
    assert!(
        passkeys(&f.p, &f.user).is_empty(),
        "stored by a refused finish"
    );
    let done = registration_finish(&f.p, &token, &ceremony, &credential).await;
    assert_status(&done, 201, "the real ceremony after bogus ones");
    // Replayed: the ceremony is gone.
    registration_finish(&f.p, &token, &ceremony, &credential)
        .await
        .assert_error(400, "invalid_request");
    assert_eq!(passkeys(&f.p, &f.user).len(), 1);

    // Sign-in finished under an unknown ceremony id; then the real one; then replayed.
    let s = sign_in_start(&f.p, &f.app, None).await;
    let assertion = authn.get(&s.options, &f.origin);
    sign_in_finish(
        &f.p,
        &s.client_id,
        &tessera_tests::random_token(32),
        &assertion,
    )
    .await
    .assert_error(400, "invalid_request");
    assert_eq!(only_passkey(&f.p, &f.user)["last_used_at"], Value::Null);
    let done = sign_in_finish(&f.p, &s.client_id, &s.ceremony_id, &assertion).await;
    redeem(&f.p, &f.app, &s, &done).await;
    sign_in_finish(&f.p, &s.client_id, &s.ceremony_id, &assertion)
        .await
        .assert_error(400, "invalid_request");
    // The same ceremony replayed with a fresh assertion (higher counter) is refused too.
    let again = authn.get(&s.options, &f.origin);
    sign_in_finish(&f.p, &s.client_id, &s.ceremony_id, &again)
        .await
        .assert_error(400, "invalid_request");
}

async fn ceremonies_are_bound_to_who_started_them(backend: Backend) {
    let f = fixture(backend);
    let admin = f.p.admin();
    let bob = admin.add_user("bob", PASSWORD);
    let other_app = admin.add_client(&ClientSpec::public("Other app").first_party());
    let alice_token = fresh_token(&f.p, &f.app, &f.user).await;
    let bob_token = fresh_token(&f.p, &f.app, &bob).await;
    let alice_other_token = fresh_token(&f.p, &other_app, &f.user).await;
    let mut authn = Authenticator::new();

    // Alice's registration ceremony finished with Bob's token, or with Alice's token of
    // another client.
    for (token, who) in [
        (&bob_token, "bob"),
        (&alice_other_token, "alice at another client"),
    ] {
        let started = registration_started(&f.p, &alice_token, &f.user).await;
        let credential = Authenticator::new().create(&started.body, &f.origin);
        let resp =
            registration_finish(&f.p, token, &started.expect_str("ceremony_id"), &credential).await;
        assert_eq!(resp.status.as_u16(), 400, "{who}: {}", resp.describe());
        resp.assert_error(400, "invalid_request");
    }
    assert!(passkeys(&f.p, &f.user).is_empty(), "alice got a passkey");
    assert!(passkeys(&f.p, &bob).is_empty(), "bob got a passkey");

    // A sign-in started for one client and finished for another.
    register(&f, &alice_token, &mut authn).await;
    let s = sign_in_start(&f.p, &f.app, None).await;
    let assertion = authn.get(&s.options, &f.origin);
    sign_in_finish(&f.p, &other_app.client_id, &s.ceremony_id, &assertion)
        .await
        .assert_error(400, "invalid_request");
    sign_in_finish(&f.p, "no-such-client", &s.ceremony_id, &assertion)
        .await
        .assert_error(400, "invalid_request");
    assert_eq!(only_passkey(&f.p, &f.user)["last_used_at"], Value::Null);
    // Either way the right client still signs in with a new ceremony.
    let (s, done) = sign_in(&f, &mut authn, None).await;
    redeem(&f.p, &f.app, &s, &done).await;
}

async fn forged_registrations_are_refused(backend: Backend) {
    let f = fixture(backend);
    let token = fresh_token(&f.p, &f.app, &f.user).await;
    let evil = evil_origin(&f);
    let other = registration_started(&f.p, &token, &f.user).await;
    let other_challenge = other.body["options"]["publicKey"]["challenge"]
        .as_str()
        .unwrap()
        .to_string();
    let cases: Vec<(&str, Flags, String, Forge)> = vec![
        (
            "wrong origin",
            Flags::device_bound(),
            evil.clone(),
            Forge::default(),
        ),
        (
            "wrong RP id",
            Flags::device_bound(),
            f.origin.clone(),
            Forge::rp_id("evil.example.test"),
        ),
        (
            "user not verified",
            Flags {
                uv: false,
                ..Flags::device_bound()
            },
            f.origin.clone(),
            Forge::default(),
        ),
        (
            "another ceremony's challenge",
            Flags::device_bound(),
            f.origin.clone(),
            Forge {
                challenge: Some(other_challenge),
                ..Forge::default()
            },
        ),
        (
            "assertion type",
            Flags::device_bound(),
            f.origin.clone(),
            Forge {
                client_data_type: Some("webauthn.get".into()),
                ..Forge::default()
            },
        ),
    ];
    for (what, flags, origin, forge) in cases {
        let started = registration_started(&f.p, &token, &f.user).await;
        let credential =
            Authenticator::with_flags(flags).create_with(&started.body, &origin, &forge);
        let resp = registration_finish(
            &f.p,
            &token,
            &started.expect_str("ceremony_id"),
            &credential,
        )
        .await;
        assert_eq!(resp.status.as_u16(), 401, "{what}: {}", resp.describe());
        resp.assert_error(401, "access_denied");
    }
    assert!(
        passkeys(&f.p, &f.user).is_empty(),
        "a forged registration was stored"
    );
}

async fn forged_assertions_are_refused_and_change_nothing(backend: Backend) {
    let f = fixture(backend);
    let token = fresh_token(&f.p, &f.app, &f.user).await;
    let bob = f.p.admin().add_user("bob", PASSWORD);
    let mut authn = Authenticator::new();
    let id = register(&f, &token, &mut authn).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let evil = evil_origin(&f);
    let bob_handle = b64(uuid::Uuid::parse_str(&bob.id).unwrap().as_bytes());
    let mut stranger = Authenticator::new();
    stranger.create(
        &json!({"publicKey": {
            "rp": {"id": RP_ID}, "user": {"id": b64(&[1u8; 16])},
            "challenge": b64(b"never asked"), "pubKeyCredParams": [{"alg": -7}],
        }}),
        &f.origin,
    );
    let stranger_id = stranger.only().id.clone();

    for username in [None, Some("alice")] {
        let other = sign_in_start(&f.p, &f.app, None).await;
        let other_challenge = other.options["publicKey"]["challenge"]
            .as_str()
            .unwrap()
            .to_string();
        let cases: Vec<(&str, Flags, String, Forge)> = vec![
            (
                "wrong origin",
                Flags::device_bound(),
                evil.clone(),
                Forge::default(),
            ),
            (
                "wrong RP id",
                Flags::device_bound(),
                f.origin.clone(),
                Forge::rp_id("evil.example.test"),
            ),
            (
                "bad signature",
                Flags::device_bound(),
                f.origin.clone(),
                Forge::bad_signature(),
            ),
            (
                "user not verified",
                Flags {
                    uv: false,
                    ..Flags::device_bound()
                },
                f.origin.clone(),
                Forge::default(),
            ),
            (
                "another ceremony's challenge",
                Flags::device_bound(),
                f.origin.clone(),
                Forge {
                    challenge: Some(other_challenge),
                    ..Forge::default()
                },
            ),
            (
                "registration type",
                Flags::device_bound(),
                f.origin.clone(),
                Forge {
                    client_data_type: Some("webauthn.create".into()),
                    ..Forge::default()
                },
            ),
            (
                "someone else's user handle",
                Flags::device_bound(),
                f.origin.clone(),
                Forge {
                    user_handle: Some(bob_handle.clone()),
                    ..Forge::default()
                },
            ),
        ];
        for (what, flags, origin, forge) in cases {
            // A high counter: if a refused assertion were recorded, the honest one below
            // would look like a regression.
            authn.set_counter(&id, 1000);
            authn.flags = flags;
            let (_, resp) = sign_in_with(&f, &f.app, &mut authn, username, &origin, &forge).await;
            assert_eq!(
                resp.status.as_u16(),
                401,
                "{what} ({username:?}): {}",
                resp.describe()
            );
            resp.assert_error(401, "access_denied");
        }
        authn.flags = Flags::device_bound();

        // A credential the provider never registered.
        let s = sign_in_start(&f.p, &f.app, username).await;
        let assertion = stranger.get_with(
            &s.options,
            &f.origin,
            &Forge {
                credential_id: Some(stranger_id.clone()),
                ..Forge::default()
            },
        );
        let resp = sign_in_finish(&f.p, &s.client_id, &s.ceremony_id, &assertion).await;
        assert_eq!(
            resp.status.as_u16(),
            401,
            "unknown credential ({username:?}): {}",
            resp.describe()
        );
        resp.assert_error(401, "access_denied");
    }

    let listed = only_passkey(&f.p, &f.user);
    assert_eq!(
        listed["last_used_at"],
        Value::Null,
        "a refused sign-in was recorded: {listed}"
    );
    assert_eq!(listed["possibly_cloned"], false, "{listed}");
    authn.set_counter(&id, 5);
    let (s, done) = sign_in(&f, &mut authn, None).await;
    let tokens = redeem(&f.p, &f.app, &s, &done).await;
    id_claims(&f.p, &tokens, &s, &f.user).await;
}

async fn counter_regression_blocks_the_passkey(backend: Backend) {
    let f = fixture(backend);
    let token = fresh_token(&f.p, &f.app, &f.user).await;
    let mut authn = Authenticator::new();
    let id = register(&f, &token, &mut authn).await["id"]
        .as_str()
        .unwrap()
        .to_string();

    authn.set_counter(&id, 9);
    let (s, done) = sign_in(&f, &mut authn, None).await;
    redeem(&f.p, &f.app, &s, &done).await;
    assert_eq!(authn.counter(&id), 10);

    // Lower than the 10 the provider saw.
    authn.set_counter(&id, 4);
    let (_, done) = sign_in(&f, &mut authn, Some("alice")).await;
    done.assert_error(401, "access_denied");
    let listed = only_passkey(&f.p, &f.user);
    assert_eq!(listed["possibly_cloned"], true, "not marked: {listed}");

    // From now on refused even with a counter above anything seen.
    authn.set_counter(&id, 20);
    let (_, done) = sign_in(&f, &mut authn, None).await;
    done.assert_error(401, "access_denied");
    let s = sign_in_start(&f.p, &f.app, Some("alice")).await;
    assert!(
        allowed(&s).is_empty(),
        "a blocked passkey is still offered: {}",
        s.options
    );
    let assertion = authn.get(&s.options, &f.origin);
    sign_in_finish(&f.p, &s.client_id, &s.ceremony_id, &assertion)
        .await
        .assert_error(401, "access_denied");
    assert_eq!(only_passkey(&f.p, &f.user)["possibly_cloned"], true);
}

async fn cloned_authenticator_is_detected(backend: Backend) {
    let f = fixture(backend);
    let token = fresh_token(&f.p, &f.app, &f.user).await;
    let mut original = Authenticator::new();
    let id = register(&f, &token, &mut original).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut copy = Authenticator::new();
    copy.import(original.export(&id));

    for _ in 0..2 {
        let (s, done) = sign_in(&f, &mut original, None).await;
        redeem(&f.p, &f.app, &s, &done).await;
    }
    // The copy still counts from where it was cloned: 1 after the provider saw 2.
    let (_, done) = sign_in(&f, &mut copy, None).await;
    done.assert_error(401, "access_denied");
    assert_eq!(only_passkey(&f.p, &f.user)["possibly_cloned"], true);
    // The original is blocked as well: which one is genuine is unknown.
    let (_, done) = sign_in(&f, &mut original, None).await;
    done.assert_error(401, "access_denied");
}

async fn credential_id_registered_twice(backend: Backend) {
    let f = fixture(backend);
    let bob = f.p.admin().add_user("bob", PASSWORD);
    let alice_token = fresh_token(&f.p, &f.app, &f.user).await;
    let bob_token = fresh_token(&f.p, &f.app, &bob).await;
    let mut authn = Authenticator::new();
    let first = register(&f, &alice_token, &mut authn).await;
    let raw_id = authn.only().id.clone();

    // Alice again (the id is in excludeCredentials), then Bob, each with a new key under the
    // same credential id.
    for (token, user, who) in [(&alice_token, &f.user, "alice"), (&bob_token, &bob, "bob")] {
        let started = registration_started(&f.p, token, user).await;
        if who == "alice" {
            let excluded: Vec<&str> = started.body["options"]["publicKey"]["excludeCredentials"]
                .as_array()
                .map(|a| a.iter().filter_map(|c| c["id"].as_str()).collect())
                .unwrap_or_default();
            assert_eq!(
                excluded,
                vec![first["id"].as_str().unwrap()],
                "{}",
                started.body
            );
        }
        let credential = Authenticator::new().create_with(
            &started.body,
            &f.origin,
            &Forge::credential_id(&raw_id),
        );
        let resp =
            registration_finish(&f.p, token, &started.expect_str("ceremony_id"), &credential).await;
        assert_eq!(resp.status.as_u16(), 400, "{who}: {}", resp.describe());
        resp.assert_error(400, "invalid_request");
    }
    assert!(
        passkeys(&f.p, &bob).is_empty(),
        "bob got alice's credential id"
    );
    let listed = only_passkey(&f.p, &f.user);
    assert_eq!(listed["created_at"], first["created_at"], "{listed}");
    // Alice's key was not replaced.
    let (s, done) = sign_in(&f, &mut authn, None).await;
    let tokens = redeem(&f.p, &f.app, &s, &done).await;
    id_claims(&f.p, &tokens, &s, &f.user).await;
}

async fn removed_passkey_no_longer_signs_in(backend: Backend) {
    let f = fixture(backend);
    let token = fresh_token(&f.p, &f.app, &f.user).await;
    let mut authn = Authenticator::new();
    let id = register(&f, &token, &mut authn).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, done) = sign_in(&f, &mut authn, None).await;
    redeem(&f.p, &f.app, &s, &done).await;

    let removed =
        f.p.admin()
            .json(&["user", "passkey-remove", "alice", &id], None);
    assert_eq!(removed["removed"], json!(id), "{removed}");
    assert_eq!(removed["user"], json!(f.user.id), "{removed}");
    assert!(passkeys(&f.p, &f.user).is_empty());
    let again =
        f.p.admin()
            .run(&["user", "passkey-remove", "alice", &id], None);
    assert!(!again.status.success(), "removed twice: {}", again.stdout);

    let (_, done) = sign_in(&f, &mut authn, None).await;
    done.assert_error(401, "access_denied");
    let s = sign_in_start(&f.p, &f.app, Some("alice")).await;
    assert!(allowed(&s).is_empty(), "{}", s.options);
    let assertion = authn.get(&s.options, &f.origin);
    sign_in_finish(&f.p, &s.client_id, &s.ceremony_id, &assertion)
        .await
        .assert_error(401, "access_denied");
}

async fn third_party_client_needs_consent(backend: Backend) {
    let f = fixture(backend);
    let partner = f.p.admin().add_client(&ClientSpec::confidential("Partner"));
    let token = fresh_token(&f.p, &f.app, &f.user).await;
    let mut authn = Authenticator::new();
    register(&f, &token, &mut authn).await;

    let (_, done) =
        sign_in_with(&f, &partner, &mut authn, None, &f.origin, &Forge::default()).await;
    done.assert_error(400, "consent_required");

    // Consent given in the browser flow is remembered; then the passkey works for it.
    oauth::login_and_exchange(&f.p.browser(), &f.p.server, &partner, &f.user).await;
    let (s, done) =
        sign_in_with(&f, &partner, &mut authn, None, &f.origin, &Forge::default()).await;
    let tokens = redeem(&f.p, &partner, &s, &done).await;
    let claims = id_claims(&f.p, &tokens, &s, &f.user).await;
    assert_methods(&claims, &["hwk", "user", "mfa"], "phrh");
}

/// A third-party client holding a user's fresh token (scope `openid`) must not plant a passkey
/// it controls: 403 `insufficient_scope` at both steps, an audit event, and nothing stored.
async fn third_party_token_cannot_add_a_passkey(backend: Backend) {
    let f = fixture(backend);
    let partner = f.p.admin().add_client(&ClientSpec::confidential("Partner"));
    let browser = f.p.browser();
    let req = Authorize::new(&f.p.server, &partner).scope("openid");
    let code = req.run(&browser, &f.p.server, &f.user).await.code();
    let token = TokenSet::from_response(
        &exchange_code(&f.p.server, &partner, &code, Some(req.verifier())).await,
    )
    .access_token;

    let refused = registration_start(&f.p, &token, "Partner key").await;
    refused.assert_error(403, "insufficient_scope");
    let www = refused.header("www-authenticate").unwrap_or_default();
    assert!(
        www.contains("error=\"insufficient_scope\""),
        "{}",
        refused.describe()
    );

    // A ceremony started with the first-party app's token cannot be finished with it either.
    let mut authn = Authenticator::new();
    let own = fresh_token(&f.p, &f.app, &f.user).await;
    let started = registration_started(&f.p, &own, &f.user).await;
    let credential = authn.create(&started.body["options"], &f.origin);
    let finish = post(
        &f.p,
        "/passkeys/registration/finish",
        Some(&token),
        &json!({ "ceremony_id": started.expect_str("ceremony_id"), "credential": credential }),
    )
    .await;
    finish.assert_error(403, "insufficient_scope");
    let listed = f.p.admin().json(&["user", "passkeys", "alice"], None);
    assert_eq!(listed.as_array().map(Vec::len), Some(0), "{listed}");

    let events = f.p.admin().json(&["audit", "--limit", "50"], None);
    let refusals: Vec<&serde_json::Value> = events
        .as_array()
        .expect("audit --json prints an array")
        .iter()
        .filter(|e| e["kind"] == "credential.change_refused")
        .collect();
    assert_eq!(refusals.len(), 2, "{events}");
    assert_eq!(
        refusals[0]["client_id"],
        json!(partner.client_id),
        "{events}"
    );
}

/// No `webauthn_rp_id` and an IP-address issuer (no domain for an RP id): the provider runs,
/// the passkey endpoints answer 404 `invalid_request`.
async fn passkeys_are_off_for_an_ip_issuer_without_rp_id(backend: Backend) {
    let p = Provider::start(backend);
    let admin = p.admin();
    let user = admin.add_user("alice", PASSWORD);
    let app = admin.add_client(&ClientSpec::public("Shop app").first_party());
    let token = fresh_token(&p, &app, &user).await;
    registration_start(&p, &token, "Test phone")
        .await
        .assert_error(404, "invalid_request");
    let pkce = Pkce::new();
    post(
        &p,
        "/passkeys/authentication/start",
        None,
        &authorization_body(&app, "s", "n", &pkce),
    )
    .await
    .assert_error(404, "invalid_request");
}
