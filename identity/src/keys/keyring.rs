//! The keys in use at one moment, parsed: the active signer per algorithm,
//! every published public key by `kid`, and the JWKS document serialised
//! once (served as bytes with an ETag).

use super::{Alg, KeyError, SigningKey};
use crate::crypto::{b64, sha256};
use jsonwebtoken::{DecodingKey, Validation};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

pub struct PublishedKey {
    pub alg: Alg,
    decoding: DecodingKey,
}

pub struct KeyRing {
    signers: HashMap<Alg, (String, Arc<SigningKey>)>,
    published: HashMap<String, PublishedKey>,
    jwks: Vec<u8>,
    etag: String,
}

/// A JWT whose signature checked out against a published key.
#[derive(Debug)]
pub struct VerifiedJwt {
    pub alg: Alg,
    pub kid: String,
    pub typ: Option<String>,
    pub claims: serde_json::Value,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwtError {
    #[error("malformed token")]
    Malformed,
    #[error("unknown signing key")]
    UnknownKey,
    #[error("bad signature or algorithm")]
    BadSignature,
    #[error("token expired")]
    Expired,
    #[error("wrong token type")]
    WrongType,
}

impl KeyRing {
    /// `signers`: the active key of each algorithm; `public`: every key to
    /// publish (next, active, retired-but-needed) as (kid, alg, JWK).
    pub fn new(
        signers: HashMap<Alg, (String, Arc<SigningKey>)>,
        public: Vec<(String, Alg, serde_json::Value)>,
    ) -> Result<KeyRing, KeyError> {
        let mut published = HashMap::new();
        let mut jwks = Vec::new();
        for (kid, alg, jwk) in public {
            let parsed: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwk.clone())
                .map_err(|e| KeyError::Crypto(format!("stored JWK {kid}: {e}")))?;
            let decoding = DecodingKey::from_jwk(&parsed)
                .map_err(|e| KeyError::Crypto(format!("stored JWK {kid}: {e}")))?;
            published.insert(kid, PublishedKey { alg, decoding });
            jwks.push(jwk);
        }
        let jwks = serde_json::to_vec(&serde_json::json!({ "keys": jwks }))
            .map_err(|e| KeyError::Crypto(e.to_string()))?;
        let etag = format!("\"{}\"", &b64(&sha256(&jwks))[..22]);
        Ok(KeyRing {
            signers,
            published,
            jwks,
            etag,
        })
    }

    pub fn jwks(&self) -> &[u8] {
        &self.jwks
    }

    pub fn jwks_etag(&self) -> &str {
        &self.etag
    }

    pub fn active_kid(&self, alg: Alg) -> Option<&str> {
        self.signers.get(&alg).map(|(kid, _)| kid.as_str())
    }

    /// Signs `claims` as a compact JWS with header `{alg, typ, kid}`.
    pub fn sign<T: Serialize>(&self, alg: Alg, typ: &str, claims: &T) -> Result<String, KeyError> {
        let (kid, key) = self
            .signers
            .get(&alg)
            .ok_or(KeyError::NoActiveKey(alg.name()))?;
        let header = serde_json::json!({ "alg": alg.name(), "typ": typ, "kid": kid });
        let header = serde_json::to_vec(&header).map_err(|e| KeyError::Crypto(e.to_string()))?;
        let claims = serde_json::to_vec(claims).map_err(|e| KeyError::Crypto(e.to_string()))?;
        let mut token = b64(&header);
        token.push('.');
        token.push_str(&b64(&claims));
        let signature = key.sign(token.as_bytes())?;
        token.push('.');
        token.push_str(&b64(&signature));
        Ok(token)
    }

    /// Verifies the signature against the published key named by `kid`,
    /// with that key's algorithm only (a header naming another algorithm,
    /// or `none`, is refused), and `exp` unless `allow_expired`.
    /// `iss`/`aud` are the caller's to check.
    pub fn verify(
        &self,
        token: &str,
        now: i64,
        allow_expired: bool,
    ) -> Result<VerifiedJwt, JwtError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| JwtError::Malformed)?;
        let kid = header.kid.clone().ok_or(JwtError::UnknownKey)?;
        let key = self.published.get(&kid).ok_or(JwtError::UnknownKey)?;
        if header.alg != key.alg.jsonwebtoken() {
            return Err(JwtError::BadSignature);
        }
        let mut validation = Validation::new(key.alg.jsonwebtoken());
        // Time is checked below against the caller's clock.
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<serde_json::Value>(token, &key.decoding, &validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::InvalidSignature
                | jsonwebtoken::errors::ErrorKind::InvalidAlgorithm => JwtError::BadSignature,
                _ => JwtError::Malformed,
            })?;
        let exp = data
            .claims
            .get("exp")
            .and_then(|v| v.as_i64())
            .ok_or(JwtError::Malformed)?;
        if !allow_expired && exp <= now {
            return Err(JwtError::Expired);
        }
        Ok(VerifiedJwt {
            alg: key.alg,
            kid,
            typ: header.typ,
            claims: data.claims,
        })
    }
}
