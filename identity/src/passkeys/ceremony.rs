//! The two WebAuthn ceremonies. Each start stores its state under a random
//! ceremony id, bound to whoever started it (a user's token, a client, a
//! browser); each finish takes that state atomically, so a finish without a
//! start, a second finish, or a finish from someone else finds nothing.

use super::credentials::{check_name, PasskeyInfo, Passkeys};
use crate::accounts::{User, UserError, Users};
use crate::audit::{self, Event, EventKind};
use crate::crypto::{b64, constant_time_eq, random_token};
use crate::store::{passkeys as rows, Ephemeral, Key, StoreError};
use serde::{Deserialize, Serialize};
use tessera_schema::rows::PasskeyRow;
use webauthn_rs::prelude::{
    CreationChallengeResponse, DiscoverableAuthentication, Passkey, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, RequestChallengeResponse, Uuid, Webauthn,
    WebauthnError,
};

/// Ceremony state lives this long (the WebAuthn timeout is shorter).
pub const CEREMONY_TTL_SECS: i64 = 300;

#[derive(Debug, thiserror::Error)]
pub enum CeremonyError {
    #[error("no such ceremony: it expired, was already finished, or belongs to someone else")]
    UnknownCeremony,
    #[error("the passkey response was refused: {0}")]
    Rejected(String),
    #[error(
        "this passkey's signature counter went backwards: it may have been cloned and is blocked"
    )]
    PossiblyCloned,
    #[error("this passkey is already registered")]
    AlreadyRegistered,
    #[error("{0}")]
    Invalid(String),
    #[error("passkeys are not configured on this provider (webauthn_rp_id)")]
    Disabled,
    #[error("the account cannot sign in")]
    UserUnavailable,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Serialize, Deserialize)]
struct RegistrationState {
    binding: String,
    user_id: String,
    name: String,
    state: PasskeyRegistration,
}

#[derive(Serialize, Deserialize)]
enum Expected {
    /// Any discoverable credential (no username typed).
    Discoverable(DiscoverableAuthentication),
    /// One of this user's credentials (named in `allowCredentials`).
    ForUser {
        user_id: String,
        state: DiscoverableAuthentication,
    },
}

#[derive(Serialize, Deserialize)]
struct AuthenticationState {
    binding: String,
    expected: Expected,
}

/// What the caller sends to `navigator.credentials.create()`.
#[derive(Debug, Serialize)]
pub struct RegistrationStart {
    pub ceremony_id: String,
    pub options: CreationChallengeResponse,
}

/// What the caller sends to `navigator.credentials.get()`.
#[derive(Debug, Serialize)]
pub struct AuthenticationStart {
    pub ceremony_id: String,
    pub options: RequestChallengeResponse,
}

/// A successful passkey sign-in.
#[derive(Debug, Clone)]
pub struct PasskeyLogin {
    pub user: User,
    pub amr: Vec<String>,
    pub acr: &'static str,
}

fn credential_id(key: &Passkey) -> String {
    b64(key.cred_id().as_ref())
}

fn rejected(e: WebauthnError) -> CeremonyError {
    CeremonyError::Rejected(e.to_string())
}

async fn take<T: serde::de::DeserializeOwned>(
    store: &Ephemeral,
    key: Key<'_>,
) -> Result<Option<T>, StoreError> {
    store.take_json(key).await
}

/// What a signature counter that went backwards does: `Refuse` (the
/// default) blocks the credential as possibly cloned; `Log` records it and
/// lets the sign-in through (for authenticators known to reset counters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CounterPolicy {
    Refuse,
    Log,
}

/// The ceremonies, with what they need.
#[derive(Clone)]
pub struct PasskeyService {
    /// `None` when passkeys are off (see [`super::relying_party`]).
    webauthn: Option<std::sync::Arc<Webauthn>>,
    counter_policy: CounterPolicy,
    users: Users,
    passkeys: Passkeys,
    store: Ephemeral,
}

impl PasskeyService {
    pub fn new(
        webauthn: Option<Webauthn>,
        counter_policy: CounterPolicy,
        users: Users,
        passkeys: Passkeys,
        store: Ephemeral,
    ) -> Self {
        PasskeyService {
            webauthn: webauthn.map(std::sync::Arc::new),
            counter_policy,
            users,
            passkeys,
            store,
        }
    }

    pub fn passkeys(&self) -> &Passkeys {
        &self.passkeys
    }

    /// Whether passkeys are configured (a domain RP id).
    pub fn enabled(&self) -> bool {
        self.webauthn.is_some()
    }

    fn webauthn(&self) -> Result<&Webauthn, CeremonyError> {
        self.webauthn.as_deref().ok_or(CeremonyError::Disabled)
    }

    /// Starts registering a passkey for `user`, bound to `binding`.
    pub async fn start_registration(
        &self,
        user: &User,
        name: &str,
        binding: &str,
    ) -> Result<RegistrationStart, CeremonyError> {
        let (webauthn, passkeys, store) = (self.webauthn()?, &self.passkeys, &self.store);
        let name = check_name(name).map_err(|e| CeremonyError::Invalid(e.to_string()))?;
        let handle = Uuid::parse_str(&user.id).map_err(|_| CeremonyError::UserUnavailable)?;
        let existing: Vec<_> = passkeys
            .usable(&user.id)
            .await?
            .into_iter()
            .map(|(_, key)| key.cred_id().clone())
            .collect();
        let display = user.name.clone().unwrap_or_else(|| user.username.clone());
        let (mut options, state) = webauthn
            .start_passkey_registration(handle, &user.username, &display, Some(existing))
            .map_err(rejected)?;
        // Discoverable credentials, so customers can sign in without typing a
        // username (and through autofill).
        if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
            selection.require_resident_key = true;
            selection.resident_key = Some(webauthn_rs_proto::ResidentKeyRequirement::Required);
        }
        let ceremony_id = random_token();
        let saved = RegistrationState {
            binding: binding.to_string(),
            user_id: user.id.clone(),
            name,
            state,
        };
        store
            .put_json(
                Key::PasskeyRegistration(&ceremony_id),
                &saved,
                CEREMONY_TTL_SECS,
            )
            .await?;
        Ok(RegistrationStart {
            ceremony_id,
            options,
        })
    }

    /// Finishes a registration started by `binding`; stores the passkey.
    pub async fn finish_registration(
        &self,
        ceremony_id: &str,
        binding: &str,
        response: &RegisterPublicKeyCredential,
        now: i64,
    ) -> Result<PasskeyInfo, CeremonyError> {
        let (webauthn, passkeys, store) = (self.webauthn()?, &self.passkeys, &self.store);
        if ceremony_id.is_empty() || ceremony_id.len() > 64 {
            return Err(CeremonyError::UnknownCeremony);
        }
        let saved: RegistrationState = take(store, Key::PasskeyRegistration(ceremony_id))
            .await?
            .ok_or(CeremonyError::UnknownCeremony)?;
        if !constant_time_eq(saved.binding.as_bytes(), binding.as_bytes()) {
            return Err(CeremonyError::UnknownCeremony);
        }
        let key = match webauthn.finish_passkey_registration(response, &saved.state) {
            Ok(key) => key,
            // webauthn-rs refuses a credential of the excludeCredentials list
            // (the user's own) with this misleading error: it is a duplicate.
            Err(WebauthnError::CredentialAlteredAlgFromRequest) => {
                let presented = b64(&response.raw_id);
                let own = passkeys.usable(&saved.user_id).await?;
                return Err(if own.iter().any(|(row, _)| row.id == presented) {
                    CeremonyError::AlreadyRegistered
                } else {
                    rejected(WebauthnError::CredentialAlteredAlgFromRequest)
                });
            }
            Err(e) => return Err(rejected(e)),
        };
        let row = PasskeyRow {
            id: credential_id(&key),
            user_id: saved.user_id.clone(),
            name: saved.name,
            credential: serde_json::to_string(&key)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            sign_count: 0,
            // Known after the first assertion; until then counted as synced,
            // the weaker claim.
            backup_eligible: true,
            backup_state: false,
            possibly_cloned: false,
            created_at: now,
            last_used_at: None,
        };
        let info = PasskeyInfo::from(&row);
        let result = passkeys
            .db()
            .transaction(move |c| {
                rows::insert(c, &row)?;
                let event = Event::new(EventKind::PasskeyAdded)
                    .user(&row.user_id)
                    .detail(serde_json::json!({ "passkey": row.id }));
                audit::record_in(c, event, now)
            })
            .await;
        match result {
            Ok(()) => Ok(info),
            Err(e) if e.is_unique_violation() => Err(CeremonyError::AlreadyRegistered),
            Err(e) => Err(e.into()),
        }
    }

    /// Starts a sign-in. `known_user` is a user the caller has already
    /// authenticated (the password step of a second factor): the challenge
    /// then names that user's credentials. Anyone else gets a challenge any
    /// discoverable credential may answer, whatever username they typed, so
    /// the answer never tells whether an account exists or lists its
    /// credential ids.
    pub async fn start_authentication(
        &self,
        known_user: Option<&str>,
        binding: &str,
    ) -> Result<AuthenticationStart, CeremonyError> {
        let (webauthn, users, passkeys, store) =
            (self.webauthn()?, &self.users, &self.passkeys, &self.store);
        let mut for_user = None;
        if let Some(user_id) = known_user {
            let found = match users.by_id(user_id).await {
                Ok(found) => found,
                Err(UserError::Store(e)) => return Err(e.into()),
                Err(_) => None,
            };
            if let Some(user) = found {
                let keys: Vec<Passkey> = passkeys
                    .usable(&user.id)
                    .await?
                    .into_iter()
                    .map(|(_, k)| k)
                    .collect();
                if !keys.is_empty() && !user.disabled {
                    for_user = Some((user.id, keys));
                }
            }
        }
        // One kind of state for both: the username case only narrows the
        // credentials the browser may offer, and the finish checks that
        // the answer came from one of them.
        let (options, expected) = match for_user {
            Some((user_id, keys)) => {
                let (mut options, state) = webauthn
                    .start_discoverable_authentication()
                    .map_err(rejected)?;
                options.public_key.allow_credentials = keys
                    .iter()
                    .map(|k| webauthn_rs_proto::AllowCredentials {
                        type_: "public-key".into(),
                        id: k.cred_id().to_vec(),
                        transports: None,
                    })
                    .collect();
                (options, Expected::ForUser { user_id, state })
            }
            None => {
                let (options, state) = webauthn
                    .start_discoverable_authentication()
                    .map_err(rejected)?;
                (options, Expected::Discoverable(state))
            }
        };
        let ceremony_id = random_token();
        let saved = AuthenticationState {
            binding: binding.to_string(),
            expected,
        };
        store
            .put_json(
                Key::PasskeyAuthentication(&ceremony_id),
                &saved,
                CEREMONY_TTL_SECS,
            )
            .await?;
        Ok(AuthenticationStart {
            ceremony_id,
            options,
        })
    }

    /// Finishes a sign-in started by `binding`: verifies the assertion,
    /// updates the counter and flags, and says who signed in and how.
    pub async fn finish_authentication(
        &self,
        ceremony_id: &str,
        binding: &str,
        response: &PublicKeyCredential,
        now: i64,
    ) -> Result<PasskeyLogin, CeremonyError> {
        let (webauthn, users, passkeys, store) =
            (self.webauthn()?, &self.users, &self.passkeys, &self.store);
        if ceremony_id.is_empty() || ceremony_id.len() > 64 {
            return Err(CeremonyError::UnknownCeremony);
        }
        let saved: AuthenticationState = take(store, Key::PasskeyAuthentication(ceremony_id))
            .await?
            .ok_or(CeremonyError::UnknownCeremony)?;
        if !constant_time_eq(saved.binding.as_bytes(), binding.as_bytes()) {
            return Err(CeremonyError::UnknownCeremony);
        }
        let presented_id = b64(response.get_credential_id());
        let (user_id, state) = match saved.expected {
            Expected::ForUser { user_id, state } => {
                // WebAuthn 7.2 step 6: a user handle, when sent, must be the
                // identified user's (webauthn-rs does not check it).
                if let Some(handle) = response.get_user_unique_id() {
                    let expected = Uuid::parse_str(&user_id).ok();
                    if expected.is_none_or(|u| u.as_bytes().as_slice() != handle) {
                        return Err(CeremonyError::Rejected(
                            "the user handle is not the signing-in user's".into(),
                        ));
                    }
                }
                (user_id, state)
            }
            Expected::Discoverable(state) => {
                let (handle, _) = webauthn
                    .identify_discoverable_authentication(response)
                    .map_err(rejected)?;
                (handle.to_string(), state)
            }
        };
        let key = passkeys
            .usable(&user_id)
            .await?
            .into_iter()
            .find(|(row, _)| row.id == presented_id)
            .map(|(_, key)| key)
            .ok_or_else(|| CeremonyError::Rejected("unknown credential".into()))?;
        // A copy of the state, for the log-only counter policy's retry.
        let retry_state: DiscoverableAuthentication = serde_json::from_value(
            serde_json::to_value(&state).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        )
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let outcome = webauthn.finish_discoverable_authentication_v2(response, state, &key);
        let (result, mut key) = match outcome {
            Ok(result) => (result, key),
            Err(WebauthnError::CredentialPossibleCompromise) => {
                let refuse = self.counter_policy == CounterPolicy::Refuse;
                let id = presented_id.clone();
                passkeys
                    .db()
                    .transaction(move |c| {
                        if !refuse || rows::mark_possibly_cloned(c, &id)? {
                            let event = Event::new(EventKind::PasskeyPossiblyCloned)
                                .detail(serde_json::json!({ "passkey": id, "refused": refuse }));
                            audit::record_in(c, event, now)?;
                        }
                        Ok(())
                    })
                    .await?;
                if refuse {
                    tracing::warn!(passkey = %presented_id, "passkey counter went backwards: possibly cloned, blocked");
                    return Err(CeremonyError::PossiblyCloned);
                }
                tracing::warn!(passkey = %presented_id, "passkey counter went backwards: possibly cloned; allowed by passkey_counter_regression = log");
                // Verify again against the same key with its counter reset,
                // so everything but the counter is still checked.
                let mut credential: webauthn_rs::prelude::Credential = key.into();
                credential.counter = 0;
                let reset = Passkey::from(credential);
                let result = webauthn
                    .finish_discoverable_authentication_v2(response, retry_state, &reset)
                    .map_err(rejected)?;
                (result, reset)
            }
            Err(e) => return Err(rejected(e)),
        };
        let user = users
            .by_id(&user_id)
            .await
            .map_err(|_| CeremonyError::UserUnavailable)?
            .filter(|u| !u.disabled)
            .ok_or(CeremonyError::UserUnavailable)?;
        let used_id = presented_id;
        key.update_credential(&result);
        let credential =
            serde_json::to_string(&key).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let counter = i64::from(result.counter());
        let backup_state = result.backup_state();
        let backup_eligible = result.backup_eligible();
        passkeys
            .db()
            .run(move |c| {
                rows::record_use(c, &used_id, &credential, counter, backup_state, now)?;
                rows::set_backup_eligible(c, &used_id, backup_eligible)
            })
            .await?;
        let (amr, acr) = super::methods(backup_eligible, result.user_verified());
        Ok(PasskeyLogin { user, amr, acr })
    }
}
