//! The whole authorization code flow driven by the `openidconnect` crate as a real relying
//! party: discovery, authorize (PKCE S256 + nonce), login, consent, code exchange, ID token
//! verification, userinfo, refresh rotation, introspection, revocation and RP-initiated logout.

use openidconnect::core::{
    CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType, CoreIdToken, CoreTokenResponse,
    CoreUserInfoClaims,
};
use openidconnect::{
    AccessToken, AccessTokenHash, AuthorizationCode, CsrfToken, LogoutRequest, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PostLogoutRedirectUrl, RefreshToken, RequestTokenError,
    Scope, TokenIntrospectionResponse, TokenResponse,
};
use serde_json::Value;
use tessera_tests::browser::query_param;
use tessera_tests::rp::{self, RpClient, TesseraProviderMetadata};
use tessera_tests::{
    both_backends, jwt, oauth, Backend, Browser, ClientSpec, Consent, Provider, RegisteredClient,
    User, PASSWORD, RP_POST_LOGOUT_URI,
};

/// Everything a completed code flow leaves behind.
struct Flow {
    http: openidconnect::reqwest::Client,
    metadata: TesseraProviderMetadata,
    rp: RpClient,
    client: RegisteredClient,
    user: User,
    browser: Browser,
    tokens: CoreTokenResponse,
    id_token: CoreIdToken,
    subject: String,
}

/// Discovery, authorize URL with PKCE S256 + nonce, login, consent, code exchange and ID token
/// verification by the crate; asserts the ID token is signed with `expected_alg`.
async fn code_flow(p: &Provider, spec: ClientSpec, expected_alg: &str) -> Flow {
    let admin = p.admin();
    let user = admin.add_user_with(
        "alice",
        Some("alice@example.test"),
        Some("Alice Example"),
        PASSWORD,
    );
    let first_party = spec.first_party;
    let client = admin.add_client(&spec);

    let http = rp::http_client();
    let metadata = rp::discover(&p.server, &http).await;
    let rp = rp::client(&metadata, &client);

    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, state, nonce) = rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("offline_access".into()))
        .set_pkce_challenge(challenge)
        .url();

    let browser = p.browser();
    let outcome = browser
        .authorize(
            auth_url.as_str(),
            &user.username,
            &user.password,
            Consent::Approve,
        )
        .await;
    assert!(outcome.saw_login, "no login page was shown");
    assert_eq!(
        outcome.saw_consent, !first_party,
        "consent page shown for a first-party client or skipped for a third-party one"
    );
    assert!(
        outcome.redirect.as_str().starts_with(client.redirect()),
        "redirected to {}",
        outcome.redirect
    );
    assert_eq!(
        outcome.param("state").as_deref(),
        Some(state.secret().as_str())
    );
    assert_eq!(
        outcome.param("iss").as_deref(),
        Some(p.server.issuer()),
        "authorization response lacks the RFC 9207 iss"
    );
    assert!(
        browser.has_cookie("tessera_session"),
        "no provider session cookie after login ({})",
        browser.cookie_header()
    );

    let tokens = rp
        .exchange_code(AuthorizationCode::new(outcome.code()))
        .expect("discovery has a token endpoint")
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap_or_else(|e| panic!("code exchange failed: {}", describe_token_error(&e)));

    let id_token = tokens
        .id_token()
        .expect("no id_token in the token response")
        .clone();
    let verifier = rp.id_token_verifier();
    let claims = id_token
        .claims(&verifier, &nonce)
        .unwrap_or_else(|e| panic!("ID token rejected by the relying party: {e:?}"));

    let raw = jwt::decode_or_panic(&id_token.to_string());
    assert_eq!(
        raw.header["alg"], expected_alg,
        "ID token alg: {}",
        raw.header
    );

    // at_hash binds the access token (OIDC Core 3.1.3.6); the crate computes it.
    let alg = id_token.signing_alg().expect("signing alg");
    let key = id_token
        .signing_key(&verifier)
        .expect("signing key in JWKS");
    let expected_hash =
        AccessTokenHash::from_token(tokens.access_token(), alg, key).expect("at_hash computable");
    assert_eq!(
        claims.access_token_hash(),
        Some(&expected_hash),
        "at_hash missing or wrong"
    );
    assert!(claims.auth_time().is_some(), "auth_time missing");
    assert!(
        claims.issue_time().timestamp() <= tessera_tests::now_secs() + 60,
        "iat in the future"
    );
    let lifetime = claims.expiration().timestamp() - claims.issue_time().timestamp();
    assert_eq!(
        lifetime, 3600,
        "ID token lifetime (id_token_ttl_secs default)"
    );
    let amr = raw.claims.get("amr").and_then(Value::as_array);
    assert!(
        amr.is_some_and(|a| a.iter().any(|m| m == "pwd")),
        "amr should contain \"pwd\": {}",
        raw.claims
    );
    assert!(
        raw.claims.get("sid").and_then(Value::as_str).is_some(),
        "sid missing: {}",
        raw.claims
    );
    let subject = claims.subject().as_str().to_string();
    drop(verifier);

    // The access token is an RFC 9068 JWT about the same subject.
    let at = jwt::decode_or_panic(tokens.access_token().secret());
    assert_eq!(
        at.header["typ"]
            .as_str()
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("at+jwt")
    );
    assert_eq!(at.claims["sub"], subject.as_str());
    assert_eq!(at.claims["client_id"], client.client_id.as_str());
    assert!(
        at.claims.get("auth_time").is_some(),
        "access token lacks auth_time"
    );

    Flow {
        http,
        metadata,
        rp,
        client,
        user,
        browser,
        tokens,
        id_token,
        subject,
    }
}

fn describe_token_error<RE: std::error::Error>(
    e: &RequestTokenError<RE, openidconnect::StandardErrorResponse<CoreErrorResponseType>>,
) -> String {
    match e {
        RequestTokenError::ServerResponse(r) => format!("server error {r:?}"),
        RequestTokenError::Parse(err, body) => {
            format!("parse error {err}: {}", String::from_utf8_lossy(body))
        }
        other => format!("{other:?}"),
    }
}

fn assert_invalid_grant<T: std::fmt::Debug, RE: std::error::Error>(
    result: Result<
        T,
        RequestTokenError<RE, openidconnect::StandardErrorResponse<CoreErrorResponseType>>,
    >,
    what: &str,
) {
    match result {
        Err(RequestTokenError::ServerResponse(r)) => assert_eq!(
            r.error(),
            &CoreErrorResponseType::InvalidGrant,
            "{what}: wrong error {r:?}"
        ),
        Err(other) => panic!(
            "{what}: expected invalid_grant, got {}",
            describe_token_error(&other)
        ),
        Ok(v) => panic!("{what}: expected invalid_grant, got success {v:?}"),
    }
}

async fn introspect_active(flow: &Flow, token: &str) -> bool {
    let at = AccessToken::new(token.to_string());
    flow.rp
        .introspect(&at)
        .request_async(&flow.http)
        .await
        .unwrap_or_else(|e| panic!("introspection failed: {}", describe_token_error(&e)))
        .active()
}

both_backends!(
    full_code_flow_with_openidconnect_rp,
    es256_id_tokens_verify,
    eddsa_id_tokens_verify,
    public_first_party_client_flow
);

async fn full_code_flow_with_openidconnect_rp(backend: Backend) {
    let p = Provider::start(backend);
    let flow = code_flow(&p, ClientSpec::confidential("Third-party RP"), "RS256").await;

    // Userinfo through the crate (it checks `sub` against the ID token's).
    let info: CoreUserInfoClaims = flow
        .rp
        .user_info(
            flow.tokens.access_token().clone(),
            Some(openidconnect::SubjectIdentifier::new(flow.subject.clone())),
        )
        .expect("discovery has a userinfo endpoint")
        .request_async(&flow.http)
        .await
        .unwrap_or_else(|e| panic!("userinfo failed: {e:?}"));
    assert_eq!(
        info.email().map(|e| e.as_str()),
        Some("alice@example.test"),
        "email scope claims"
    );
    assert_eq!(
        info.name().and_then(|n| n.get(None)).map(|n| n.as_str()),
        Some("Alice Example"),
        "profile scope claims"
    );
    // GET and POST both work.
    let posted = oauth::userinfo_post(&p.server, flow.tokens.access_token().secret()).await;
    assert_eq!(posted.assert_ok()["sub"], flow.subject.as_str());

    // Introspection: active, with the RFC 7662 members.
    let at = flow.tokens.access_token().clone();
    let resp = flow
        .rp
        .introspect(&at)
        .request_async(&flow.http)
        .await
        .unwrap_or_else(|e| panic!("introspection failed: {}", describe_token_error(&e)));
    assert!(resp.active(), "fresh access token inactive");
    assert_eq!(resp.sub(), Some(flow.subject.as_str()));
    assert_eq!(
        resp.client_id().map(|c| c.as_str()),
        Some(flow.client.client_id.as_str())
    );

    // Refresh with rotation: a new refresh token, the old one refused afterwards.
    let rt1 = flow
        .tokens
        .refresh_token()
        .expect("no refresh token although offline_access was granted")
        .clone();
    let refreshed = flow
        .rp
        .exchange_refresh_token(&rt1)
        .expect("token endpoint")
        .request_async(&flow.http)
        .await
        .unwrap_or_else(|e| panic!("refresh failed: {}", describe_token_error(&e)));
    let rt2 = refreshed
        .refresh_token()
        .expect("refresh response without a rotated refresh token")
        .clone();
    assert_ne!(rt1.secret(), rt2.secret(), "refresh token not rotated");
    assert_ne!(
        refreshed.access_token().secret(),
        flow.tokens.access_token().secret()
    );
    if let Some(id_token) = refreshed.id_token() {
        // OIDC Core 12.2: same iss/sub/aud; no nonce requirement.
        let claims = id_token
            .claims(&flow.rp.id_token_verifier(), |_: Option<&Nonce>| Ok(()))
            .unwrap_or_else(|e| panic!("refreshed ID token rejected: {e:?}"));
        assert_eq!(claims.subject().as_str(), flow.subject);
    }
    // The first refresh token was rotated away. (Presenting it again is reuse: per RFC 9700
    // the family is then revoked, which is asserted in token_errors.rs; here we only need the
    // refusal, so check it last for the refresh family.)

    // Revoke the new access token: inactive at once, refused by userinfo.
    let at2 = refreshed.access_token().secret().clone();
    assert!(introspect_active(&flow, &at2).await);
    oauth::revoke(&p.server, flow.client.auth(), &at2, Some("access_token")).await;
    assert!(
        !introspect_active(&flow, &at2).await,
        "revoked access token still active"
    );
    oauth::assert_invalid_token(&oauth::userinfo(&p.server, &at2).await);

    // Revoke the current refresh token: it can no longer be used, and is inactive.
    assert!(
        introspect_active(&flow, rt2.secret()).await,
        "refresh token not active at /introspect"
    );
    oauth::revoke(
        &p.server,
        flow.client.auth(),
        rt2.secret(),
        Some("refresh_token"),
    )
    .await;
    assert!(!introspect_active(&flow, rt2.secret()).await);
    assert_invalid_grant(
        flow.rp
            .exchange_refresh_token(&rt2)
            .expect("token endpoint")
            .request_async(&flow.http)
            .await,
        "revoked refresh token",
    );
    assert_invalid_grant(
        flow.rp
            .exchange_refresh_token(&RefreshToken::new(rt1.secret().clone()))
            .expect("token endpoint")
            .request_async(&flow.http)
            .await,
        "rotated (old) refresh token",
    );

    // Single sign-on: with the session (and remembered consent) prompt=none yields a code.
    let (sso_url, sso_state, _) = flow
        .rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(PkceCodeChallenge::new_random_sha256().0)
        .add_prompt(CoreAuthPrompt::None)
        .url();
    let sso = flow.browser.get(sso_url.as_str()).await;
    let loc = sso.expect_location();
    assert!(
        query_param(&loc, "code").is_some(),
        "prompt=none with a session and approved consent gave no code: {loc}"
    );
    assert_eq!(query_param(&loc, "state"), Some(sso_state.secret().clone()));

    // RP-initiated logout with id_token_hint, registered post_logout_redirect_uri and state.
    let end_session = flow
        .metadata
        .additional_metadata()
        .end_session_endpoint
        .clone()
        .expect("discovery lacks end_session_endpoint");
    let logout_state = CsrfToken::new_random();
    let logout_url = LogoutRequest::from(end_session)
        .set_id_token_hint(&flow.id_token)
        .set_post_logout_redirect_uri(
            PostLogoutRedirectUrl::new(RP_POST_LOGOUT_URI.to_string()).unwrap(),
        )
        .set_state(logout_state.clone())
        .http_get_url();
    let mut page = flow.browser.get(logout_url.as_str()).await;
    if !page.is_redirect() {
        // A confirmation page is allowed (RP-Initiated Logout 1.0 section 2): confirm it.
        let form = page
            .form("/logout")
            .unwrap_or_else(|| panic!("logout neither redirected nor asked:\n{}", page.describe()));
        let confirm: Vec<(&str, &str)> = form
            .fields
            .iter()
            .filter(|f| f.kind == "submit")
            .filter_map(|f| Some((f.name.as_deref()?, f.value.as_deref()?)))
            .take(1)
            .collect();
        page = flow.browser.submit(&page, &form, &confirm).await;
    }
    let after = page.expect_location();
    assert!(
        after.as_str().starts_with(RP_POST_LOGOUT_URI),
        "logout redirected to {after}, not the registered post_logout_redirect_uri"
    );
    assert_eq!(
        query_param(&after, "state"),
        Some(logout_state.secret().clone()),
        "logout state not echoed"
    );

    // The provider session is over: prompt=none now answers login_required.
    let (none_url, none_state, _) = flow
        .rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(PkceCodeChallenge::new_random_sha256().0)
        .add_prompt(CoreAuthPrompt::None)
        .url();
    let page = flow.browser.get(none_url.as_str()).await;
    let loc = page.expect_location();
    assert!(loc.as_str().starts_with(flow.client.redirect()), "{loc}");
    assert_eq!(
        query_param(&loc, "error").as_deref(),
        Some("login_required"),
        "after logout: {loc}"
    );
    assert_eq!(
        query_param(&loc, "state"),
        Some(none_state.secret().clone())
    );
    let _ = &flow.user;
}

async fn es256_id_tokens_verify(backend: Backend) {
    let p = Provider::start(backend);
    let flow = code_flow(
        &p,
        ClientSpec::confidential("ES256 RP").id_token_alg("ES256"),
        "ES256",
    )
    .await;
    assert!(introspect_active(&flow, flow.tokens.access_token().secret()).await);
}

async fn eddsa_id_tokens_verify(backend: Backend) {
    let p = Provider::start(backend);
    let flow = code_flow(
        &p,
        ClientSpec::confidential("EdDSA RP").id_token_alg("EdDSA"),
        "EdDSA",
    )
    .await;
    assert!(introspect_active(&flow, flow.tokens.access_token().secret()).await);
}

async fn public_first_party_client_flow(backend: Backend) {
    let p = Provider::start(backend);
    // Public client (token_endpoint_auth_method none + PKCE), first party: no consent page.
    let flow = code_flow(
        &p,
        ClientSpec::public("First-party app").first_party(),
        "RS256",
    )
    .await;
    let rt = flow
        .tokens
        .refresh_token()
        .expect("public client got no refresh token")
        .clone();
    let refreshed = flow
        .rp
        .exchange_refresh_token(&rt)
        .expect("token endpoint")
        .request_async(&flow.http)
        .await
        .unwrap_or_else(|e| panic!("public refresh failed: {}", describe_token_error(&e)));
    assert!(refreshed.refresh_token().is_some());
    let info = oauth::userinfo(&p.server, refreshed.access_token().secret()).await;
    assert_eq!(info.assert_ok()["sub"], flow.subject.as_str());
}
