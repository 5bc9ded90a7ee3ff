//! Provider metadata (OIDC Discovery 1.0 section 3, RFC 8414 section 2),
//! listing only what is implemented. Serialised once at start.

use crate::keys::Alg;
use serde_json::{json, Value};

pub const SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];
pub const CLAIMS: [&str; 17] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "azp",
    "at_hash",
    "sid",
    "name",
    "preferred_username",
    "updated_at",
    "email",
    "email_verified",
];
/// `1` for a password authentication in this request, `0` for single
/// sign-on from an earlier one (the values Keycloak users know), `phr` and
/// `phrh` for passkeys (OpenID EAP ACR Values 1.0).
pub const ACR_VALUES: [&str; 4] = ["0", "1", "phr", "phrh"];

pub fn metadata(issuer: &str) -> Value {
    let url = |path: &str| format!("{issuer}{path}");
    let algs: Vec<&str> = vec![Alg::Rs256.name(), Alg::Es256.name(), Alg::EdDsa.name()];
    let client_auth = ["client_secret_basic", "client_secret_post", "none"];
    let confidential_auth = ["client_secret_basic", "client_secret_post"];
    json!({
        "issuer": issuer,
        "authorization_endpoint": url("/authorize"),
        "token_endpoint": url("/token"),
        "userinfo_endpoint": url("/userinfo"),
        "jwks_uri": url("/jwks"),
        "end_session_endpoint": url("/logout"),
        "revocation_endpoint": url("/revoke"),
        "introspection_endpoint": url("/introspect"),
        "scopes_supported": SCOPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algs,
        "token_endpoint_auth_methods_supported": client_auth,
        "revocation_endpoint_auth_methods_supported": client_auth,
        "introspection_endpoint_auth_methods_supported": confidential_auth,
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": CLAIMS,
        "acr_values_supported": ACR_VALUES,
        "prompt_values_supported": ["none", "login", "consent"],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "require_request_uri_registration": false,
        "authorization_response_iss_parameter_supported": true,
        "frontchannel_logout_supported": false,
        "backchannel_logout_supported": false,
    })
}

/// The same document as bytes, with an ETag, prepared once.
pub struct Discovery {
    pub bytes: Vec<u8>,
    pub etag: String,
}

impl Discovery {
    pub fn new(issuer: &str) -> Discovery {
        let bytes = serde_json::to_vec(&metadata(issuer)).unwrap_or_default();
        let etag = format!(
            "\"{}\"",
            &crate::crypto::b64(&crate::crypto::sha256(&bytes))[..22]
        );
        Discovery { bytes, etag }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_live_under_the_issuer() {
        let m = metadata("https://id.example");
        assert_eq!(m["issuer"], "https://id.example");
        assert_eq!(m["token_endpoint"], "https://id.example/token");
        assert_eq!(m["code_challenge_methods_supported"], json!(["S256"]));
        assert_eq!(m["request_uri_parameter_supported"], json!(false));
    }
}
