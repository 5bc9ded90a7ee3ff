//! Scope strings (RFC 6749 section 3.3): space-separated, order-free.

/// Splits a scope string into distinct tokens, keeping first-seen order.
pub fn parse(scope: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for token in scope.split(' ').filter(|t| !t.is_empty()) {
        if !out.iter().any(|t| t == token) {
            out.push(token.to_string());
        }
    }
    out
}

pub fn join(scopes: &[String]) -> String {
    scopes.join(" ")
}

/// RFC 6749 section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
pub fn is_valid_token(token: &str) -> bool {
    !token.is_empty()
        && token
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
}

pub fn contains(scopes: &[String], wanted: &str) -> bool {
    scopes.iter().any(|s| s == wanted)
}

/// True when every scope in `wanted` is in `granted`.
pub fn covers(granted: &[String], wanted: &[String]) -> bool {
    wanted.iter().all(|w| contains(granted, w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_compares_scopes() {
        assert_eq!(parse("openid  email openid"), vec!["openid", "email"]);
        assert!(covers(
            &parse("openid email profile"),
            &parse("email openid")
        ));
        assert!(!covers(&parse("openid"), &parse("openid email")));
        assert!(is_valid_token("offline_access"));
        assert!(!is_valid_token("bad\"quote"));
    }
}
