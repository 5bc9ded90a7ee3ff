//! Independent JWS reading and verification against a JWKS (aws-lc-rs), for access tokens and
//! for crafting tampered / `alg: none` tokens.

use aws_lc_rs::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;

/// A compact JWS split into its parts.
#[derive(Clone, Debug)]
pub struct Jws {
    pub header: Value,
    pub claims: Value,
    pub signing_input: String,
    pub signature: Vec<u8>,
}

/// Splits and decodes a compact JWS without verifying it.
pub fn decode(token: &str) -> Result<Jws, String> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(format!("not a compact JWS ({} parts)", parts.len()));
    }
    let header = decode_json(parts[0]).map_err(|e| format!("header: {e}"))?;
    let claims = decode_json(parts[1]).map_err(|e| format!("payload: {e}"))?;
    let signature = URL_SAFE_NO_PAD
        .decode(parts[2])
        .map_err(|e| format!("signature: {e}"))?;
    Ok(Jws {
        header,
        claims,
        signing_input: format!("{}.{}", parts[0], parts[1]),
        signature,
    })
}

/// Decodes or panics.
pub fn decode_or_panic(token: &str) -> Jws {
    decode(token).unwrap_or_else(|e| panic!("cannot decode JWT {token:?}: {e}"))
}

fn decode_json(part: &str) -> Result<Value, String> {
    let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|e| e.to_string())?;
    serde_json::from_slice(&bytes).map_err(|e| e.to_string())
}

/// base64url (no padding) of a JSON value.
pub fn encode_json(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).expect("serialize"))
}

fn b64_field(jwk: &Value, name: &str) -> Result<Vec<u8>, String> {
    let s = jwk
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("JWK lacks `{name}`: {jwk}"))?;
    URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|e| format!("JWK `{name}` is not base64url: {e}"))
}

/// Verifies `token` with the key of `jwks` named by its `kid` (which must be there) and returns
/// the decoded token. Only RS256, ES256 and EdDSA (Ed25519) are accepted.
pub fn verify(token: &str, jwks: &Value) -> Result<Jws, String> {
    let jws = decode(token)?;
    let alg = jws
        .header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or("header has no alg")?;
    let kid = jws
        .header
        .get("kid")
        .and_then(Value::as_str)
        .ok_or("header has no kid")?;
    let keys = jwks
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("JWKS has no keys array")?;
    let jwk = keys
        .iter()
        .find(|k| k.get("kid").and_then(Value::as_str) == Some(kid))
        .ok_or_else(|| format!("kid {kid:?} is not in the JWKS"))?;
    if let Some(key_alg) = jwk.get("alg").and_then(Value::as_str) {
        if key_alg != alg {
            return Err(format!("token alg {alg} but JWK {kid} is for {key_alg}"));
        }
    }
    let kty = jwk.get("kty").and_then(Value::as_str).unwrap_or("");
    let msg = jws.signing_input.as_bytes();
    let sig = jws.signature.as_slice();
    let ok = match alg {
        "RS256" => {
            if kty != "RSA" {
                return Err(format!("RS256 with kty {kty}"));
            }
            let n = b64_field(jwk, "n")?;
            let e = b64_field(jwk, "e")?;
            RsaPublicKeyComponents { n: &n, e: &e }
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, msg, sig)
                .is_ok()
        }
        "ES256" => {
            if kty != "EC" || jwk.get("crv").and_then(Value::as_str) != Some("P-256") {
                return Err(format!("ES256 with a non-P-256 key: {jwk}"));
            }
            let mut point = vec![4u8];
            point.extend(b64_field(jwk, "x")?);
            point.extend(b64_field(jwk, "y")?);
            UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, &point)
                .verify(msg, sig)
                .is_ok()
        }
        "EdDSA" => {
            if kty != "OKP" || jwk.get("crv").and_then(Value::as_str) != Some("Ed25519") {
                return Err(format!("EdDSA with a non-Ed25519 key: {jwk}"));
            }
            let x = b64_field(jwk, "x")?;
            UnparsedPublicKey::new(&signature::ED25519, &x)
                .verify(msg, sig)
                .is_ok()
        }
        other => return Err(format!("unsupported alg {other}")),
    };
    if ok {
        Ok(jws)
    } else {
        Err(format!("signature does not verify with {kid} ({alg})"))
    }
}

/// The same token with one bit of its signature flipped.
pub fn tamper_signature(token: &str) -> String {
    let (input, sig) = token.rsplit_once('.').expect("compact JWS");
    let mut bytes = URL_SAFE_NO_PAD.decode(sig).expect("signature base64url");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The same header and signature over modified claims.
pub fn tamper_claims(token: &str, edit: impl FnOnce(&mut Value)) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "compact JWS");
    let mut claims = decode_json(parts[1]).expect("claims");
    edit(&mut claims);
    format!("{}.{}.{}", parts[0], encode_json(&claims), parts[2])
}

/// An unsigned (`alg: none`) token with the original claims and header fields.
pub fn alg_none(token: &str) -> String {
    let jws = decode_or_panic(token);
    let mut header = jws.header.clone();
    header["alg"] = Value::String("none".into());
    format!("{}.{}.", encode_json(&header), encode_json(&jws.claims))
}

/// Fields that must never appear in a published JWK (private key material).
pub const PRIVATE_JWK_MEMBERS: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{EcdsaKeyPair, Ed25519KeyPair, KeyPair};
    use serde_json::json;

    fn sign_es256(claims: &Value) -> (String, Value) {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .unwrap();
        let kp =
            EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
                .unwrap();
        let public = kp.public_key().as_ref();
        let jwk = json!({
            "kty": "EC", "crv": "P-256", "kid": "k1", "alg": "ES256",
            "x": URL_SAFE_NO_PAD.encode(&public[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&public[33..65]),
        });
        let input = format!(
            "{}.{}",
            encode_json(&json!({"alg": "ES256", "kid": "k1", "typ": "at+jwt"})),
            encode_json(claims)
        );
        let sig = kp.sign(&rng, input.as_bytes()).unwrap();
        (
            format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref())),
            json!({ "keys": [jwk] }),
        )
    }

    #[test]
    fn es256_round_trip_and_tampering() {
        let (token, jwks) = sign_es256(&json!({"sub": "a"}));
        let jws = verify(&token, &jwks).expect("verifies");
        assert_eq!(jws.claims["sub"], "a");
        assert!(verify(&tamper_signature(&token), &jwks).is_err());
        assert!(verify(&tamper_claims(&token, |c| c["sub"] = json!("b")), &jwks).is_err());
        assert!(verify(&alg_none(&token), &jwks).is_err());
    }

    #[test]
    fn eddsa_round_trip() {
        let rng = SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let kp = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let jwks = json!({"keys": [{
            "kty": "OKP", "crv": "Ed25519", "kid": "e1",
            "x": URL_SAFE_NO_PAD.encode(kp.public_key().as_ref()),
        }]});
        let input = format!(
            "{}.{}",
            encode_json(&json!({"alg": "EdDSA", "kid": "e1"})),
            encode_json(&json!({"x": 1}))
        );
        let sig = kp.sign(input.as_bytes());
        let token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()));
        verify(&token, &jwks).expect("verifies");
        assert!(verify(&tamper_signature(&token), &jwks).is_err());
    }
}
