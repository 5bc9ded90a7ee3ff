//! One signing key, parsed once and kept in memory. Signatures are made with
//! aws-lc-rs directly — the same backend jsonwebtoken uses — because
//! jsonwebtoken's `encode` re-parses the private key on every call (2.5x
//! the cost of an RS256 signature). Verification goes through jsonwebtoken.

use super::KeyError;
use crate::crypto::b64;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING,
    RSA_PKCS1_SHA256,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The JWS algorithms Tessera signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub enum Alg {
    #[serde(rename = "ES256")]
    Es256,
    #[serde(rename = "RS256")]
    Rs256,
    #[serde(rename = "EdDSA")]
    EdDsa,
}

impl Alg {
    pub const ALL: [Alg; 3] = [Alg::Es256, Alg::Rs256, Alg::EdDsa];

    pub fn name(self) -> &'static str {
        match self {
            Alg::Es256 => "ES256",
            Alg::Rs256 => "RS256",
            Alg::EdDsa => "EdDSA",
        }
    }

    pub fn parse(name: &str) -> Option<Alg> {
        Alg::ALL.into_iter().find(|a| a.name() == name)
    }

    pub fn jsonwebtoken(self) -> jsonwebtoken::Algorithm {
        match self {
            Alg::Es256 => jsonwebtoken::Algorithm::ES256,
            Alg::Rs256 => jsonwebtoken::Algorithm::RS256,
            Alg::EdDsa => jsonwebtoken::Algorithm::EdDSA,
        }
    }
}

pub enum SigningKey {
    Es256(EcdsaKeyPair),
    Rs256(RsaKeyPair),
    EdDsa(Ed25519KeyPair),
}

fn crypto(what: &str) -> impl FnOnce(aws_lc_rs::error::Unspecified) -> KeyError + '_ {
    move |_| KeyError::Crypto(what.to_string())
}

impl SigningKey {
    /// A new key and its PKCS#8 DER encoding (what is stored, encrypted).
    pub fn generate(alg: Alg) -> Result<(SigningKey, Vec<u8>), KeyError> {
        let der = match alg {
            Alg::Es256 => EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
                .map_err(crypto("generate P-256"))?
                .to_pkcs8v1()
                .map_err(crypto("encode P-256"))?
                .as_ref()
                .to_vec(),
            Alg::Rs256 => RsaKeyPair::generate(KeySize::Rsa2048)
                .map_err(crypto("generate RSA"))?
                .as_der()
                .map_err(crypto("encode RSA"))?
                .as_ref()
                .to_vec(),
            Alg::EdDsa => Ed25519KeyPair::generate()
                .map_err(crypto("generate Ed25519"))?
                .to_pkcs8()
                .map_err(crypto("encode Ed25519"))?
                .as_ref()
                .to_vec(),
        };
        Ok((Self::from_pkcs8(alg, &der)?, der))
    }

    pub fn from_pkcs8(alg: Alg, der: &[u8]) -> Result<SigningKey, KeyError> {
        let rejected = |e: aws_lc_rs::error::KeyRejected| KeyError::Crypto(e.to_string());
        Ok(match alg {
            Alg::Es256 => SigningKey::Es256(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
                    .map_err(rejected)?,
            ),
            Alg::Rs256 => SigningKey::Rs256(RsaKeyPair::from_pkcs8(der).map_err(rejected)?),
            Alg::EdDsa => SigningKey::EdDsa(Ed25519KeyPair::from_pkcs8(der).map_err(rejected)?),
        })
    }

    pub fn alg(&self) -> Alg {
        match self {
            SigningKey::Es256(_) => Alg::Es256,
            SigningKey::Rs256(_) => Alg::Rs256,
            SigningKey::EdDsa(_) => Alg::EdDsa,
        }
    }

    /// The JWS signature over `message` (for ES256 the fixed r||s form
    /// that RFC 7518 section 3.4 requires).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        match self {
            SigningKey::Es256(k) => Ok(k
                .sign(&rng, message)
                .map_err(crypto("ES256 sign"))?
                .as_ref()
                .to_vec()),
            SigningKey::Rs256(k) => {
                let mut sig = vec![0u8; k.public_modulus_len()];
                k.sign(&RSA_PKCS1_SHA256, &rng, message, &mut sig)
                    .map_err(crypto("RS256 sign"))?;
                Ok(sig)
            }
            SigningKey::EdDsa(k) => Ok(k.sign(message).as_ref().to_vec()),
        }
    }

    /// The public key as a JWK (RFC 7517), with no private member.
    pub fn public_jwk(&self, kid: &str) -> serde_json::Value {
        match self {
            SigningKey::Es256(k) => {
                // Uncompressed SEC1 point: 0x04 || x (32) || y (32).
                let point = k.public_key().as_ref();
                json!({
                    "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid,
                    "x": b64(&point[1..33]), "y": b64(&point[33..65]),
                })
            }
            SigningKey::Rs256(k) => {
                let public = k.public_key();
                json!({
                    "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
                    "n": b64(public.modulus().big_endian_without_leading_zero()),
                    "e": b64(public.exponent().big_endian_without_leading_zero()),
                })
            }
            SigningKey::EdDsa(k) => json!({
                "kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA", "kid": kid,
                "x": b64(k.public_key().as_ref()),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_signs_what_jsonwebtoken_verifies() {
        for alg in Alg::ALL {
            let (key, der) = SigningKey::generate(alg).unwrap();
            let reparsed = SigningKey::from_pkcs8(alg, &der).unwrap();
            let jwk: jsonwebtoken::jwk::Jwk =
                serde_json::from_value(reparsed.public_jwk("k")).unwrap();
            let decoding = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
            let message = b"header.payload";
            let sig = b64(&key.sign(message).unwrap());
            assert!(
                jsonwebtoken::crypto::verify(&sig, message, &decoding, alg.jsonwebtoken()).unwrap(),
                "{alg:?}"
            );
            assert!(
                !jsonwebtoken::crypto::verify(&sig, b"header.other", &decoding, alg.jsonwebtoken())
                    .unwrap(),
                "{alg:?} must refuse a changed message"
            );
        }
    }

    #[test]
    fn public_jwks_carry_no_private_member() {
        for alg in Alg::ALL {
            let (key, _) = SigningKey::generate(alg).unwrap();
            let jwk = key.public_jwk("k");
            for private in ["d", "p", "q", "dp", "dq", "qi"] {
                assert!(jwk.get(private).is_none(), "{alg:?} leaks {private}");
            }
        }
    }
}
