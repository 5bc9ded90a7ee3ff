//! Bearer tokens at /userinfo (RFC 6750): forged, tampered, unsigned and wrong-type tokens are
//! refused with 401 and `WWW-Authenticate: Bearer error="invalid_token"`.

use serde_json::json;
use tessera_tests::oauth::{self, http, JsonResponse};
use tessera_tests::{both_backends, jwt, Backend, ClientSpec, Provider, PASSWORD};

both_backends!(forged_tokens_at_userinfo, missing_bearer_token);

async fn forged_tokens_at_userinfo(backend: Backend) {
    let p = Provider::start(backend);
    let admin = p.admin();
    let user = admin.add_user_with("alice", Some("alice@example.test"), None, PASSWORD);
    let client = admin.add_client(&ClientSpec::confidential("Web"));
    let tokens = oauth::login_and_exchange(&p.browser(), &p.server, &client, &user).await;
    let at = tokens.access_token.clone();

    // The genuine token works with GET and POST.
    let ok = oauth::userinfo(&p.server, &at).await;
    let sub = ok.assert_ok()["sub"].clone();
    assert!(sub.is_string(), "userinfo without sub: {}", ok.describe());
    assert_eq!(
        oauth::userinfo_post(&p.server, &at).await.assert_ok()["sub"],
        sub
    );

    let cases = [
        ("tampered signature", jwt::tamper_signature(&at)),
        (
            "tampered claims",
            jwt::tamper_claims(&at, |c| c["sub"] = json!("someone-else")),
        ),
        (
            "extended expiry",
            jwt::tamper_claims(&at, |c| {
                c["exp"] = json!(tessera_tests::now_secs() + 86_400)
            }),
        ),
        ("alg none", jwt::alg_none(&at)),
        (
            "alg none with a signature",
            format!(
                "{}.{}",
                jwt::alg_none(&at).trim_end_matches('.'),
                at.rsplit('.').next().unwrap()
            ),
        ),
        (
            "ID token used as an access token",
            tokens.id_token.clone().expect("id_token"),
        ),
        ("garbage", "not-a-token".to_string()),
        ("empty payload", "e30.e30.".to_string()),
    ];
    for (what, token) in cases {
        let get = oauth::userinfo(&p.server, &token).await;
        assert_invalid_token(&get, what);
        let post = oauth::userinfo_post(&p.server, &token).await;
        assert_invalid_token(&post, what);
    }

    // A token from another provider's key: HS256 with a guessable secret.
    let jws = jwt::decode_or_panic(&at);
    let mut header = jws.header.clone();
    header["alg"] = json!("HS256");
    let input = format!(
        "{}.{}",
        jwt::encode_json(&header),
        jwt::encode_json(&jws.claims)
    );
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, b"secret");
    let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
    use base64::Engine as _;
    let hs = format!(
        "{input}.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tag.as_ref())
    );
    assert_invalid_token(&oauth::userinfo(&p.server, &hs).await, "HS256 forgery");
}

fn assert_invalid_token(resp: &JsonResponse, what: &str) {
    if resp.status.as_u16() != 401 {
        panic!(
            "{what}: expected 401 invalid_token, got {}",
            resp.describe()
        );
    }
    oauth::assert_invalid_token(resp);
}

async fn missing_bearer_token(backend: Backend) {
    let p = Provider::start(backend);
    let resp = JsonResponse::read(
        http()
            .get(p.server.url("/userinfo"))
            .send()
            .await
            .expect("GET /userinfo"),
    )
    .await;
    assert_eq!(resp.status.as_u16(), 401, "{}", resp.describe());
    let www = resp.header("www-authenticate").unwrap_or("");
    assert!(
        www.to_ascii_lowercase().starts_with("bearer"),
        "no Bearer challenge: {}",
        resp.describe()
    );
}
