//! Discovery (OIDC Discovery 1.0, RFC 8414), JWKS and the operational endpoints.

use std::collections::BTreeMap;

use serde_json::Value;
use tessera_tests::jwt::PRIVATE_JWK_MEMBERS;
use tessera_tests::oauth::{get_json, http};
use tessera_tests::{both_backends, Backend, Provider};

/// Every endpoint the contract lists, by metadata member.
const OIDC_ENDPOINTS: &[(&str, &str)] = &[
    ("authorization_endpoint", "/authorize"),
    ("token_endpoint", "/token"),
    ("userinfo_endpoint", "/userinfo"),
    ("jwks_uri", "/jwks"),
    ("introspection_endpoint", "/introspect"),
    ("revocation_endpoint", "/revoke"),
    ("end_session_endpoint", "/logout"),
];

/// Members that name an endpoint (`*_endpoint` and `jwks_uri`), as issuer-relative paths.
fn endpoints(doc: &Value, issuer: &str) -> BTreeMap<String, String> {
    doc.as_object()
        .expect("metadata is an object")
        .iter()
        .filter(|(k, _)| k.ends_with("_endpoint") || k.as_str() == "jwks_uri")
        .map(|(k, v)| {
            let url = v.as_str().unwrap_or_else(|| panic!("{k} is not a string"));
            let path = url
                .strip_prefix(issuer)
                .unwrap_or_else(|| panic!("{k} = {url} is not under the issuer {issuer}"));
            (k.clone(), path.to_string())
        })
        .collect()
}

fn strings(doc: &Value, key: &str) -> Vec<String> {
    doc.get(key)
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("{key} missing or not an array: {doc}"))
        .iter()
        .map(|v| v.as_str().expect("string").to_string())
        .collect()
}

fn assert_contains_all(doc: &Value, key: &str, wanted: &[&str]) {
    let have = strings(doc, key);
    for w in wanted {
        assert!(have.iter().any(|h| h == w), "{key} lacks {w}: {have:?}");
    }
}

both_backends!(
    discovery_documents,
    jwks_publishes_only_public_keys,
    health_and_metrics
);

async fn discovery_documents(backend: Backend) {
    let p = Provider::start(backend);
    let issuer = p.server.issuer().to_string();
    let expected: BTreeMap<String, String> = OIDC_ENDPOINTS
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();

    let oidc = get_json(&p.server.url("/.well-known/openid-configuration")).await;
    let doc = oidc.assert_ok().clone();
    assert_eq!(doc["issuer"], issuer.as_str());
    assert_eq!(
        endpoints(&doc, &issuer),
        expected,
        "openid-configuration must list exactly the implemented endpoints"
    );
    assert_eq!(strings(&doc, "code_challenge_methods_supported"), ["S256"]);
    assert_eq!(strings(&doc, "response_types_supported"), ["code"]);
    assert_contains_all(&doc, "subject_types_supported", &["public"]);
    assert_contains_all(
        &doc,
        "id_token_signing_alg_values_supported",
        &["RS256", "ES256", "EdDSA"],
    );
    let mut grants = strings(&doc, "grant_types_supported");
    grants.sort();
    assert_eq!(
        grants,
        ["authorization_code", "client_credentials", "refresh_token"],
        "grant_types_supported must be truthful"
    );
    assert_contains_all(
        &doc,
        "token_endpoint_auth_methods_supported",
        &["client_secret_basic", "client_secret_post", "none"],
    );
    assert_contains_all(
        &doc,
        "scopes_supported",
        &["openid", "profile", "email", "offline_access"],
    );
    for methods in ["response_modes_supported", "prompt_values_supported"] {
        if let Some(v) = doc.get(methods) {
            assert!(v.is_array(), "{methods}: {v}");
        }
    }

    let oauth = get_json(&p.server.url("/.well-known/oauth-authorization-server")).await;
    let doc = oauth.assert_ok().clone();
    assert_eq!(doc["issuer"], issuer.as_str());
    let got = endpoints(&doc, &issuer);
    for required in [
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "introspection_endpoint",
        "revocation_endpoint",
    ] {
        assert_eq!(
            got.get(required),
            expected.get(required),
            "oauth-authorization-server {required}"
        );
    }
    for (k, v) in &got {
        assert_eq!(
            expected.get(k),
            Some(v),
            "oauth-authorization-server lists an endpoint outside the contract: {k} = {v}"
        );
    }
    assert_eq!(strings(&doc, "code_challenge_methods_supported"), ["S256"]);
    assert_eq!(strings(&doc, "response_types_supported"), ["code"]);
}

async fn jwks_publishes_only_public_keys(backend: Backend) {
    let p = Provider::start(backend);
    let resp = get_json(&p.server.url("/jwks")).await;
    let doc = resp.assert_ok();
    let keys = doc["keys"].as_array().expect("keys array");
    let mut algs: Vec<&str> = Vec::new();
    for key in keys {
        for member in PRIVATE_JWK_MEMBERS {
            assert!(
                key.get(*member).is_none(),
                "JWKS publishes private member {member}: {key}"
            );
        }
        assert!(key["kid"].as_str().is_some(), "key without kid: {key}");
        if let Some(u) = key.get("use") {
            assert_eq!(u, "sig", "{key}");
        }
        // `alg` is optional in a JWK (RFC 7517 4.4); fall back to the key type.
        let alg = key["alg"]
            .as_str()
            .or(match (key["kty"].as_str(), key["crv"].as_str()) {
                (Some("RSA"), _) => Some("RS256"),
                (Some("EC"), Some("P-256")) => Some("ES256"),
                (Some("OKP"), Some("Ed25519")) => Some("EdDSA"),
                _ => None,
            });
        algs.extend(alg);
    }
    for alg in ["RS256", "ES256", "EdDSA"] {
        assert!(algs.contains(&alg), "no {alg} key in /jwks: {doc}");
    }
    let mut kids: Vec<&str> = keys.iter().filter_map(|k| k["kid"].as_str()).collect();
    let n = kids.len();
    kids.sort();
    kids.dedup();
    assert_eq!(kids.len(), n, "duplicate kids in /jwks");
}

async fn health_and_metrics(backend: Backend) {
    let p = Provider::start(backend);
    let client = http();
    for path in ["/healthz", "/readyz"] {
        let r = client.get(p.server.url(path)).send().await.expect(path);
        assert_eq!(r.status().as_u16(), 200, "{path}");
    }
    let r = client
        .get(p.server.url("/metrics"))
        .send()
        .await
        .expect("/metrics");
    assert_eq!(r.status().as_u16(), 200);
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(ct.starts_with("text/plain"), "metrics content-type {ct:?}");
    let body = r.text().await.unwrap();
    assert!(
        body.lines().any(|l| l.starts_with("# TYPE ")),
        "metrics not in Prometheus text format:\n{body}"
    );
}
