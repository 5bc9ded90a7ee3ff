//! Hostile parameter values (NUL, other control characters, invalid UTF-8, overlong values) in
//! every parameter of every endpoint get the ordinary refusal on both backend pairs: a 400
//! `invalid_request` (JSON endpoints), `invalid_client` (client credentials) or an HTML 400
//! page (pages), never a 500. PostgreSQL text cannot hold NUL, so without validation at the
//! edge the production pair would fail where SQLite refuses.

use reqwest::StatusCode;
use tessera_tests::oauth::{basic_auth_header, http, JsonResponse};
use tessera_tests::{both_backends, Authorize, Backend, ClientSpec, Provider, PASSWORD};

/// Raw (already percent-decoded) hostile values.
fn hostile_values() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("NUL", b"web\0app".to_vec()),
        ("ESC", b"\x1b[31mred".to_vec()),
        ("DEL", b"a\x7fb".to_vec()),
        ("invalid UTF-8", vec![b'a', 0xFF, 0xFE, b'b']),
        ("overlong", vec![b'a'; 17_000]),
    ]
}

/// Percent-encodes every byte that is not unreserved (RFC 3986 2.3).
fn enc(raw: &[u8]) -> String {
    raw.iter()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (*b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `params` with `name` replaced by the raw `value`, form-encoded.
fn form_with(params: &[(&str, &str)], name: &str, value: &[u8]) -> String {
    let mut pairs: Vec<String> = params
        .iter()
        .filter(|(k, _)| *k != name)
        .map(|(k, v)| format!("{}={}", enc(k.as_bytes()), enc(v.as_bytes())))
        .collect();
    pairs.push(format!("{}={}", enc(name.as_bytes()), enc(value)));
    pairs.join("&")
}

fn assert_json_refusal(resp: &JsonResponse, what: &str, status: u16, error: &str) {
    assert_ne!(
        resp.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{what}: {}",
        resp.describe()
    );
    assert_eq!(resp.status.as_u16(), status, "{what}: {}", resp.describe());
    assert_eq!(
        resp.str("error"),
        Some(error),
        "{what}: {}",
        resp.describe()
    );
}

fn assert_page_refusal(resp: &JsonResponse, what: &str) {
    assert_eq!(
        resp.status,
        StatusCode::BAD_REQUEST,
        "{what}: {}",
        resp.describe()
    );
    let ct = resp.header("content-type").unwrap_or_default();
    assert!(
        ct.starts_with("text/html"),
        "{what}: not a page: {}",
        resp.describe()
    );
    assert!(
        resp.header("location").is_none(),
        "{what}: redirected: {}",
        resp.describe()
    );
}

async fn get(url: &str) -> JsonResponse {
    let resp = http().get(url).send().await.expect("GET");
    JsonResponse::read(resp).await
}

async fn post(url: &str, auth: Option<&str>, content_type: &str, body: Vec<u8>) -> JsonResponse {
    let mut req = http()
        .post(url)
        .header("content-type", content_type)
        .body(body);
    if let Some(auth) = auth {
        req = req.header("authorization", auth);
    }
    JsonResponse::read(req.send().await.expect("POST")).await
}

both_backends!(
    hostile_values_at_oauth_endpoints,
    hostile_values_at_pages,
    hostile_values_in_json_bodies
);

async fn hostile_values_at_oauth_endpoints(backend: Backend) {
    let p = Provider::start(backend);
    let client = p.admin().add_client(&ClientSpec::confidential("Web"));
    let basic = basic_auth_header(&client.client_id, client.secret());
    let form = "application/x-www-form-urlencoded";
    let endpoints: [(&str, Vec<(&str, &str)>); 3] = [
        (
            "/token",
            vec![
                ("grant_type", "authorization_code"),
                ("code", "some-code"),
                ("redirect_uri", client.redirect()),
                (
                    "code_verifier",
                    "some-verifier-some-verifier-some-verifier-1234",
                ),
                ("refresh_token", "some-refresh-token"),
                ("scope", "openid"),
            ],
        ),
        (
            "/introspect",
            vec![("token", "some-token"), ("token_type_hint", "access_token")],
        ),
        (
            "/revoke",
            vec![
                ("token", "some-token"),
                ("token_type_hint", "refresh_token"),
            ],
        ),
    ];
    for (path, params) in &endpoints {
        for (name, _) in params {
            for (kind, value) in hostile_values() {
                let what = format!("{path} {name}={kind}");
                let body = form_with(params, name, &value).into_bytes();
                let resp = post(&p.server.url(path), Some(&basic), form, body).await;
                assert_json_refusal(&resp, &what, 400, "invalid_request");
            }
        }
        // client_secret_post with a hostile client_id / client_secret.
        for field in ["client_id", "client_secret"] {
            for (kind, value) in hostile_values() {
                let what = format!("{path} {field}={kind}");
                let mut base = params.clone();
                base.push(("client_id", &client.client_id));
                base.push(("client_secret", client.secret()));
                let body = form_with(&base, field, &value).into_bytes();
                let resp = post(&p.server.url(path), None, form, body).await;
                assert_json_refusal(&resp, &what, 400, "invalid_request");
            }
        }
        // HTTP Basic whose client id decodes to a hostile value.
        for (kind, value) in hostile_values() {
            use base64::Engine as _;
            let raw = format!("{}:{}", enc(&value), client.secret());
            let auth = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(raw)
            );
            let body = form_with(params, "unused", b"x").into_bytes();
            let resp = post(&p.server.url(path), Some(&auth), form, body).await;
            assert_json_refusal(
                &resp,
                &format!("{path} Basic id {kind}"),
                401,
                "invalid_client",
            );
        }
    }
}

async fn hostile_values_at_pages(backend: Backend) {
    let p = Provider::start(backend);
    let admin = p.admin();
    admin.add_user("alice", PASSWORD);
    let client = admin.add_client(&ClientSpec::confidential("Web"));
    let authorize = Authorize::new(&p.server, &client);
    let valid = url::Url::parse(&authorize.url()).expect("authorize URL");
    let params: Vec<(String, String)> = valid.query_pairs().into_owned().collect();
    let params: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    for (name, _) in &params {
        for (kind, value) in hostile_values() {
            let query = form_with(&params, name, &value);
            let what = format!("GET /authorize {name}={kind}");
            assert_page_refusal(
                &get(&p.server.url(&format!("/authorize?{query}"))).await,
                &what,
            );
            let what = format!("POST /authorize {name}={kind}");
            let resp = post(
                &p.server.url("/authorize"),
                None,
                "application/x-www-form-urlencoded",
                query.into_bytes(),
            )
            .await;
            assert_page_refusal(&resp, &what);
        }
    }
    let logout = [
        ("id_token_hint", "x.y.z"),
        ("client_id", client.client_id.as_str()),
        (
            "post_logout_redirect_uri",
            tessera_tests::RP_POST_LOGOUT_URI,
        ),
        ("state", "s"),
    ];
    for (name, _) in &logout {
        for (kind, value) in hostile_values() {
            let query = form_with(&logout, name, &value);
            let what = format!("GET /logout {name}={kind}");
            assert_page_refusal(
                &get(&p.server.url(&format!("/logout?{query}"))).await,
                &what,
            );
        }
    }
    // The login and consent forms, with a real pending request.
    let browser = p.browser();
    let page = browser.follow(&authorize.url()).await;
    let login = page.form("/login").expect("login form");
    let mut fields: Vec<(String, String)> = login.hidden();
    fields.push(("username".into(), "alice".into()));
    fields.push(("password".into(), PASSWORD.into()));
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    for path in ["/login", "/consent"] {
        for (name, _) in &fields {
            for (kind, value) in hostile_values() {
                let what = format!("POST {path} {name}={kind}");
                let body = form_with(&fields, name, &value).into_bytes();
                let resp = browser
                    .client()
                    .post(p.server.url(path))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body)
                    .send()
                    .await
                    .expect("POST");
                assert_page_refusal(&JsonResponse::read(resp).await, &what);
            }
        }
    }
}

async fn hostile_values_in_json_bodies(backend: Backend) {
    let p = Provider::start(backend);
    let client = p
        .admin()
        .add_client(&ClientSpec::public("App").first_party());
    let bodies: [(&str, serde_json::Value); 3] = [
        (
            "/passkeys/authentication/start",
            serde_json::json!({
                "client_id": client.client_id,
                "redirect_uri": client.redirect(),
                "response_type": "code",
                "scope": "openid",
                "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                "code_challenge_method": "S256",
            }),
        ),
        (
            "/passkeys/authentication/finish",
            serde_json::json!({ "client_id": client.client_id, "ceremony_id": "c", "credential": {} }),
        ),
        (
            "/login/passkey/start",
            serde_json::json!({ "req": "r", "csrf_token": "t" }),
        ),
    ];
    for (path, body) in &bodies {
        let keys: Vec<String> = body.as_object().expect("object").keys().cloned().collect();
        for key in keys {
            for (kind, text) in [("NUL", "web\u{0}app"), ("ESC", "\u{1b}[31m")] {
                let mut hostile = body.clone();
                hostile[&key] = serde_json::Value::String(text.to_string());
                let what = format!("{path} {key}={kind}");
                let resp = post(
                    &p.server.url(path),
                    None,
                    "application/json",
                    serde_json::to_vec(&hostile).expect("JSON"),
                )
                .await;
                assert_json_refusal(&resp, &what, 400, "invalid_request");
            }
        }
        let mut raw = serde_json::to_vec(body).expect("JSON");
        raw.extend_from_slice(&[0xFF, 0xFE]);
        let resp = post(&p.server.url(path), None, "application/json", raw).await;
        assert_json_refusal(
            &resp,
            &format!("{path} invalid UTF-8"),
            400,
            "invalid_request",
        );
    }
}
