//! PKCE (RFC 7636) with S256 only: `plain` lets anyone who saw the request
//! redeem the code, so it is refused (RFC 9700 section 2.1.1).

use crate::crypto::{b64, constant_time_eq, sha256};

/// RFC 7636 section 4.1: 43 to 128 characters of [A-Z a-z 0-9 - . _ ~].
pub fn is_well_formed(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// True when `verifier` hashes to `challenge`.
pub fn verify_s256(challenge: &str, verifier: &str) -> bool {
    is_well_formed(verifier)
        && constant_time_eq(
            b64(&sha256(verifier.as_bytes())).as_bytes(),
            challenge.as_bytes(),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_example() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(verify_s256(challenge, verifier));
        assert!(!verify_s256(
            challenge,
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK"
        ));
        assert!(!verify_s256(challenge, "short"));
    }
}
