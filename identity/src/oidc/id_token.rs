//! ID tokens (OIDC Core 2 and 3.1.3.6), signed with the client's
//! `id_token_signed_response_alg` (RS256 unless the client chose otherwise).

use crate::crypto::b64;
use crate::keys::{Alg, KeyError, KeyRing};
use crate::oauth::clients::Client;
use aws_lc_rs::digest;
use serde::Serialize;

pub struct IdTokenInput<'a> {
    pub issuer: &'a str,
    pub client: &'a Client,
    pub subject: &'a str,
    pub nonce: Option<&'a str>,
    pub auth_time: i64,
    pub amr: &'a [String],
    pub acr: &'a str,
    pub sid: &'a str,
    pub access_token: &'a str,
    pub ttl_secs: i64,
}

#[derive(Serialize)]
struct IdTokenClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    azp: &'a str,
    exp: i64,
    iat: i64,
    auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    at_hash: String,
    amr: &'a [String],
    acr: &'a str,
    sid: &'a str,
}

/// OIDC Core 3.1.3.6: the left half of the hash of the access token's
/// ASCII, with the hash of the signing algorithm (SHA-512 for Ed25519).
pub fn at_hash(alg: Alg, access_token: &str) -> String {
    let algorithm = match alg {
        Alg::Es256 | Alg::Rs256 => &digest::SHA256,
        Alg::EdDsa => &digest::SHA512,
    };
    let hash = digest::digest(algorithm, access_token.as_bytes());
    let bytes = hash.as_ref();
    b64(&bytes[..bytes.len() / 2])
}

pub fn sign(ring: &KeyRing, input: &IdTokenInput<'_>, now: i64) -> Result<String, KeyError> {
    let alg = input.client.id_token_signed_response_alg;
    let claims = IdTokenClaims {
        iss: input.issuer,
        sub: input.subject,
        aud: &input.client.client_id,
        azp: &input.client.client_id,
        exp: now + input.ttl_secs,
        iat: now,
        auth_time: input.auth_time,
        nonce: input.nonce,
        at_hash: at_hash(alg, input.access_token),
        amr: input.amr,
        acr: input.acr,
        sid: input.sid,
    };
    ring.sign(alg, "JWT", &claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_matches_the_oidc_example() {
        // OIDC Core appendix A.3: access token and at_hash for RS256.
        assert_eq!(
            at_hash(Alg::Rs256, "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }
}
