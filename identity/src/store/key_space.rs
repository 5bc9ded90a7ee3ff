//! Every kind of value the ephemeral store holds, and its key: one place
//! names them all, so a new kind (devices, DPoP proofs, handoff codes)
//! cannot collide with an old one, and the in-process store knows which
//! values an anonymous flood may create (and so may be evicted first).

/// One key of the ephemeral store. The rendered form is stable: Redis
/// holds these keys across upgrades.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key<'a> {
    /// A pending authorization request, by its id (anyone can start one).
    AuthorizationRequest(&'a str),
    /// An unredeemed authorization code, by the code's hash.
    Code(&'a str),
    /// What a redeemed code issued (for replay revocation), by the code's hash.
    CodeRedemption(&'a str),
    /// A revoked access token id or grant id: the deny-list.
    Revoked(&'a str),
    /// A browser session, by the cookie's hash.
    Session(&'a str),
    /// A passkey registration ceremony (started by a signed-in user).
    PasskeyRegistration(&'a str),
    /// A passkey sign-in ceremony (anyone can start one).
    PasskeyAuthentication(&'a str),
    /// The authorization request an API passkey sign-in ends in.
    PasskeyAuthorizationRequest(&'a str),
    /// Reserved login attempts of one account (hashed).
    LoginAttempts(&'a str),
    /// Failed logins from one client address.
    IpFailures(&'a str),
    /// The lock on one client address.
    IpLock(&'a str),
    /// How many new evictable values were created in the current minute
    /// (the Redis store's budget for what anonymous callers can create).
    AnonymousBudget,
}

impl Key<'_> {
    pub fn render(&self) -> String {
        match self {
            Key::AuthorizationRequest(id) => format!("authreq:{id}"),
            Key::Code(hash) => format!("code:{hash}"),
            Key::CodeRedemption(hash) => format!("code-redeemed:{hash}"),
            Key::Revoked(id) => format!("revoked-jti:{id}"),
            Key::Session(hash) => format!("session:{hash}"),
            Key::PasskeyRegistration(id) => format!("webauthn:reg:{id}"),
            Key::PasskeyAuthentication(id) => format!("webauthn:auth:{id}"),
            Key::PasskeyAuthorizationRequest(id) => format!("webauthn:authreq:{id}"),
            Key::LoginAttempts(hash) => format!("throttle:acct:{hash}"),
            Key::IpFailures(ip) => format!("throttle:fail:ip:{ip}"),
            Key::IpLock(ip) => format!("throttle:lock:ip:{ip}"),
            Key::AnonymousBudget => "budget:anonymous".to_string(),
        }
    }

    /// True for state an unauthenticated caller can create at will: under
    /// memory pressure it is dropped first (the caller starts over), while
    /// sessions, codes, revocations and throttling state are never evicted.
    pub fn evictable(&self) -> bool {
        matches!(
            self,
            Key::AuthorizationRequest(_)
                | Key::PasskeyAuthentication(_)
                | Key::PasskeyAuthorizationRequest(_)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_spaces_do_not_overlap() {
        let all = [
            Key::AuthorizationRequest("x"),
            Key::Code("x"),
            Key::CodeRedemption("x"),
            Key::Revoked("x"),
            Key::Session("x"),
            Key::PasskeyRegistration("x"),
            Key::PasskeyAuthentication("x"),
            Key::PasskeyAuthorizationRequest("x"),
            Key::LoginAttempts("x"),
            Key::IpFailures("x"),
            Key::IpLock("x"),
        ];
        assert_ne!(Key::AnonymousBudget.render(), Key::IpLock("x").render());
        let rendered: std::collections::HashSet<String> = all.iter().map(Key::render).collect();
        assert_eq!(rendered.len(), all.len());
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                let (a, b) = (a.render(), b.render());
                let (pa, pb) = (&a[..a.len() - 1], &b[..b.len() - 1]);
                assert!(!pa.starts_with(pb) && !pb.starts_with(pa), "{a} / {b}");
            }
        }
    }
}
