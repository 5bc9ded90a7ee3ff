//! Passkeys (WebAuthn) with webauthn-rs: registration and authentication
//! ceremonies whose state lives in the ephemeral store (single use, five
//! minutes), credentials in the durable store. Sign counters are checked;
//! a counter that goes backwards marks the credential as possibly cloned
//! and the sign-in is refused.

mod ceremony;
mod credentials;

pub use ceremony::{
    AuthenticationStart, CeremonyError, CounterPolicy, PasskeyLogin, PasskeyService,
    RegistrationStart, CEREMONY_TTL_SECS,
};
pub use credentials::{PasskeyInfo, PasskeyStoreError, Passkeys};

use crate::config::Config;
use webauthn_rs::prelude::{Url, Webauthn, WebauthnBuilder};

/// Builds the relying party from config: the RP id defaults to the
/// issuer's host, the allowed origins are the issuer's origin plus the
/// configured extra origins (app and H5 hosts, `android:apk-key-hash:`).
///
/// An RP id must be a domain (WebAuthn 5.1.4.1). When the issuer is an IP
/// address and no domain is configured, passkeys are off (`Ok(None)`) and
/// the rest of the provider runs; an explicitly configured RP id that fits
/// no origin is a start-up error. For `localhost` any port is accepted, so
/// local development works with whatever port the server picked.
pub fn relying_party(config: &Config, issuer: &str) -> Result<Option<Webauthn>, String> {
    let issuer_url = Url::parse(issuer).map_err(|e| format!("issuer: {e}"))?;
    let rp_id = match &config.webauthn_rp_id {
        Some(id) => id.clone(),
        None => match issuer_url.domain() {
            Some(domain) => domain.to_string(),
            None => {
                tracing::warn!(
                    "passkeys are off: the issuer's host is not a domain; set webauthn_rp_id \
                     and webauthn_origins to enable them"
                );
                return Ok(None);
            }
        },
    };
    let mut origins = vec![issuer_url];
    for origin in config
        .webauthn_origins
        .split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
    {
        origins.push(Url::parse(origin).map_err(|e| format!("webauthn_origins `{origin}`: {e}"))?);
    }
    let fits = |url: &Url| {
        url.domain()
            .is_some_and(|d| d == rp_id || d.ends_with(&format!(".{rp_id}")))
    };
    let Some(primary) = origins.iter().find(|u| fits(u)).cloned() else {
        return Err(format!(
            "webauthn_rp_id `{rp_id}` fits neither the issuer nor any of webauthn_origins"
        ));
    };
    let mut builder = WebauthnBuilder::new(&rp_id, &primary)
        .map_err(|e| format!("WebAuthn RP id `{rp_id}`: {e}"))?
        .rp_name(&config.webauthn_rp_name)
        .allow_any_port(rp_id == "localhost");
    for origin in origins.iter().filter(|o| **o != primary) {
        builder = builder.append_allowed_origin(origin);
    }
    builder
        .build()
        .map(Some)
        .map_err(|e| format!("WebAuthn: {e}"))
}

/// RFC 8176 methods and the EAP ACR value for a passkey sign-in: a
/// credential that cannot leave the device (not backup-eligible) is a
/// hardware key (`hwk`, acr `phrh`); a synced passkey a software key
/// (`swk`, acr `phr`). User verification adds `user` and, since the key is
/// a second factor in itself, `mfa`.
pub fn methods(backup_eligible: bool, user_verified: bool) -> (Vec<String>, &'static str) {
    let mut amr = vec![if backup_eligible { "swk" } else { "hwk" }.to_string()];
    if user_verified {
        amr.push("user".into());
        amr.push("mfa".into());
    }
    (amr, if backup_eligible { "phr" } else { "phrh" })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(rp_id: Option<&str>, origins: &str) -> Config {
        Config {
            webauthn_rp_id: rp_id.map(String::from),
            webauthn_origins: origins.into(),
            ..Config::default()
        }
    }

    #[test]
    fn rp_id_follows_the_issuer_and_ip_issuers_turn_passkeys_off() {
        assert!(relying_party(&config(None, ""), "https://id.shop.example")
            .unwrap()
            .is_some());
        assert!(relying_party(&config(None, ""), "http://127.0.0.1:8080")
            .unwrap()
            .is_none());
        let local = relying_party(
            &config(Some("localhost"), "http://localhost"),
            "http://127.0.0.1:9",
        )
        .unwrap()
        .expect("localhost works for development");
        assert!(local
            .get_allowed_origins()
            .iter()
            .any(|o| o.host_str() == Some("localhost")));
        let err = relying_party(
            &config(Some("shop.example"), "https://evil.example"),
            "http://127.0.0.1:9",
        );
        assert!(
            err.is_err(),
            "an RP id that fits no origin is refused at start"
        );
        assert!(relying_party(&config(None, "not a url"), "https://id.shop.example").is_err());
    }

    #[test]
    fn device_bound_keys_are_hardware_and_phrh() {
        assert_eq!(
            super::methods(false, true),
            (vec!["hwk".into(), "user".into(), "mfa".into()], "phrh")
        );
        assert_eq!(super::methods(true, false), (vec!["swk".into()], "phr"));
    }
}
