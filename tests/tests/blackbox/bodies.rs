//! Malformed and oversized request bodies: 400 with a JSON `invalid_request`, never a 500.

use tessera_tests::oauth::{basic_auth_header, http, JsonResponse};
use tessera_tests::{both_backends, Backend, ClientSpec, Provider};

const FORM: &str = "application/x-www-form-urlencoded";

async fn post_raw(
    url: &str,
    auth: Option<String>,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> JsonResponse {
    let mut req = http().post(url).body(body);
    if let Some(a) = auth {
        req = req.header(reqwest::header::AUTHORIZATION, a);
    }
    if let Some(ct) = content_type {
        req = req.header(reqwest::header::CONTENT_TYPE, ct);
    }
    let resp = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {url} failed: {e}"));
    JsonResponse::read(resp).await
}

both_backends!(malformed_token_bodies, oversized_bodies);

async fn malformed_token_bodies(backend: Backend) {
    let p = Provider::start(backend);
    let client = p.admin().add_client(&ClientSpec::service("Backend"));
    let auth = basic_auth_header(&client.client_id, client.secret());
    let url = p.server.url("/token");

    let cases: Vec<(&str, Option<&str>, Vec<u8>)> =
        vec![
        ("empty body", Some(FORM), Vec::new()),
        (
            "duplicated grant_type",
            Some(FORM),
            b"grant_type=client_credentials&grant_type=client_credentials".to_vec(),
        ),
        (
            "JSON instead of a form",
            Some("application/json"),
            br#"{"grant_type":"client_credentials"}"#.to_vec(),
        ),
        ("binary garbage", Some(FORM), vec![0, 159, 146, 150, 255, 254, 0, 61, 38, 61]),
        ("broken escapes", Some(FORM), b"%zz%%&&==&%".to_vec()),
        (
            "authorization_code without code",
            Some(FORM),
            b"grant_type=authorization_code&redirect_uri=https%3A%2F%2Frp.example.test%2Fcallback"
                .to_vec(),
        ),
        (
            "refresh_token without refresh_token",
            Some(FORM),
            b"grant_type=refresh_token".to_vec(),
        ),
    ];
    for (what, ct, body) in cases {
        let resp = post_raw(&url, Some(auth.clone()), ct, body).await;
        assert!(
            resp.status.as_u16() < 500,
            "{what}: server error {}",
            resp.describe()
        );
        assert_eq!(resp.status.as_u16(), 400, "{what}: {}", resp.describe());
        assert!(
            resp.header("content-type")
                .unwrap_or("")
                .starts_with("application/json"),
            "{what}: not JSON: {}",
            resp.describe()
        );
        assert_eq!(
            resp.str("error"),
            Some("invalid_request"),
            "{what}: {}",
            resp.describe()
        );
    }
}

async fn oversized_bodies(backend: Backend) {
    let p = Provider::start(backend);
    let client = p.admin().add_client(&ClientSpec::service("Backend"));
    let auth = basic_auth_header(&client.client_id, client.secret());

    let mut big = b"grant_type=client_credentials&token=".to_vec();
    big.extend(std::iter::repeat_n(b'a', 17 * 1024));
    assert!(big.len() > 16 * 1024);

    for path in ["/token", "/introspect", "/revoke"] {
        let resp = post_raw(
            &p.server.url(path),
            Some(auth.clone()),
            Some(FORM),
            big.clone(),
        )
        .await;
        assert_eq!(
            resp.status.as_u16(),
            400,
            "{path} with a {} byte body: {}",
            big.len(),
            resp.describe()
        );
        assert_eq!(
            resp.str("error"),
            Some("invalid_request"),
            "{path}: {}",
            resp.describe()
        );
    }

    // Just under the limit is still processed normally.
    let mut fine = b"grant_type=client_credentials&scope=api.read&pad=".to_vec();
    fine.extend(std::iter::repeat_n(b'a', 15 * 1024));
    let resp = post_raw(&p.server.url("/token"), Some(auth), Some(FORM), fine).await;
    assert_eq!(
        resp.status.as_u16(),
        200,
        "15 KiB body: {}",
        resp.describe()
    );
}
