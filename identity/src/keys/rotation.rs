//! Key life cycle. Each algorithm has an `active` key (signs), a `next` key
//! (published before it signs, so verifiers have cached it by the time it
//! does) and `retired` keys published until every token they signed has
//! expired. Servers re-read the keys periodically, so a rotation by the CLI
//! reaches every process without breaking a token that is still valid.

use super::keyring::KeyRing;
use super::{Alg, KeyEncryptionKey, KeyError, SigningKey};
use crate::audit::{self, Event, EventKind};
use crate::store::{keys as rows, Db, StoreError};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use tessera_schema::rows::SigningKeyRow;

/// How long after its last possible use a retired key stays published.
const CLOCK_SKEW_SECS: i64 = 60;

pub struct KeyService {
    db: Db,
    kek: Arc<KeyEncryptionKey>,
    /// Longest lifetime of a signed token.
    max_token_ttl: i64,
    ring: RwLock<Arc<KeyRing>>,
}

/// What `keys list` shows.
#[derive(Debug, Clone, serde::Serialize)]
pub struct KeySummary {
    pub kid: String,
    pub alg: String,
    pub state: String,
    pub created_at: i64,
    pub activated_at: Option<i64>,
    pub retired_at: Option<i64>,
    pub published: bool,
}

impl KeyService {
    /// Ensures every algorithm has an active and a next key, then loads them.
    pub async fn start(
        db: Db,
        kek: Arc<KeyEncryptionKey>,
        max_token_ttl: i64,
        now: i64,
    ) -> Result<KeyService, KeyError> {
        ensure_keys(&db, &kek, now).await?;
        let ring = load_ring(&db, &kek, max_token_ttl, now).await?;
        Ok(KeyService {
            db,
            kek,
            max_token_ttl,
            ring: RwLock::new(Arc::new(ring)),
        })
    }

    /// The current key ring (cheap: an `Arc` clone).
    pub fn ring(&self) -> Arc<KeyRing> {
        self.ring.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Re-reads keys from the durable store (after a rotation elsewhere).
    pub async fn reload(&self, now: i64) -> Result<(), KeyError> {
        let ring = load_ring(&self.db, &self.kek, self.max_token_ttl, now).await?;
        *self.ring.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(ring);
        Ok(())
    }

    pub fn kek(&self) -> &Arc<KeyEncryptionKey> {
        &self.kek
    }
}

fn new_row(
    kek: &KeyEncryptionKey,
    alg: Alg,
    state: &str,
    now: i64,
) -> Result<SigningKeyRow, KeyError> {
    let kid = format!(
        "{}-{}",
        alg.name().to_ascii_lowercase(),
        &crate::crypto::random_token()[..16]
    );
    let (key, der) = SigningKey::generate(alg)?;
    Ok(SigningKeyRow {
        private_key: kek.seal(&kid, &der)?,
        public_jwk: key.public_jwk(&kid).to_string(),
        kid,
        alg: alg.name().to_string(),
        state: state.to_string(),
        created_at: now,
        activated_at: (state == rows::ACTIVE).then_some(now),
        retired_at: None,
    })
}

/// Creates the missing active/next keys. Several processes may race here on
/// a fresh database: the unique index lets one win, the others carry on.
pub async fn ensure_keys(db: &Db, kek: &Arc<KeyEncryptionKey>, now: i64) -> Result<(), KeyError> {
    for alg in Alg::ALL {
        for state in [rows::ACTIVE, rows::NEXT] {
            let exists = db
                .run(move |c| rows::in_state(c, alg.name(), state))
                .await?
                .is_some();
            if exists {
                continue;
            }
            let row = new_row(kek, alg, state, now)?;
            match db.run(move |c| rows::insert(c, &row)).await {
                Ok(()) => {}
                Err(e) if e.is_unique_violation() => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}

/// Rotates one algorithm: active -> retired, next -> active, a new next.
/// Retired keys that no unexpired token can need any more are deleted.
/// Returns the kid that is now active.
pub async fn rotate(
    db: &Db,
    kek: &Arc<KeyEncryptionKey>,
    alg: Alg,
    max_token_ttl: i64,
    now: i64,
) -> Result<String, KeyError> {
    ensure_keys(db, kek, now).await?;
    let fresh = new_row(kek, alg, rows::NEXT, now)?;
    let promoted = db
        .transaction(move |c| {
            let active = rows::in_state(c, alg.name(), rows::ACTIVE)?
                .ok_or_else(|| StoreError::Corrupt(format!("no active {} key", alg.name())))?;
            let next = rows::in_state(c, alg.name(), rows::NEXT)?
                .ok_or_else(|| StoreError::Corrupt(format!("no next {} key", alg.name())))?;
            if !rows::transition(c, &active.kid, rows::ACTIVE, rows::RETIRED, now)?
                || !rows::transition(c, &next.kid, rows::NEXT, rows::ACTIVE, now)?
            {
                return Err(StoreError::Corrupt("keys changed during rotation".into()));
            }
            rows::insert(c, &fresh)?;
            rows::delete_retired_before(c, now - max_token_ttl - CLOCK_SKEW_SECS)?;
            let event = Event::new(EventKind::KeysRotated).detail(serde_json::json!({
                "alg": alg.name(), "retired": active.kid, "active": next.kid, "next": fresh.kid,
            }));
            audit::record_in(c, event, now)?;
            Ok(next.kid)
        })
        .await?;
    Ok(promoted)
}

/// Every stored key, for `keys list`.
pub async fn summaries(db: &Db, max_token_ttl: i64, now: i64) -> Result<Vec<KeySummary>, KeyError> {
    let all = db.run(rows::all).await?;
    Ok(all
        .into_iter()
        .map(|r| KeySummary {
            published: is_published(&r, max_token_ttl, now),
            kid: r.kid,
            alg: r.alg,
            state: r.state,
            created_at: r.created_at,
            activated_at: r.activated_at,
            retired_at: r.retired_at,
        })
        .collect())
}

fn is_published(row: &SigningKeyRow, max_token_ttl: i64, now: i64) -> bool {
    match row.retired_at {
        Some(retired) if row.state == rows::RETIRED => {
            retired + max_token_ttl + CLOCK_SKEW_SECS > now
        }
        _ => true,
    }
}

async fn load_ring(
    db: &Db,
    kek: &KeyEncryptionKey,
    max_token_ttl: i64,
    now: i64,
) -> Result<KeyRing, KeyError> {
    let all = db.run(rows::all).await?;
    let mut signers = HashMap::new();
    let mut public = Vec::new();
    for row in all {
        let Some(alg) = Alg::parse(&row.alg) else {
            continue;
        };
        if !is_published(&row, max_token_ttl, now) {
            continue;
        }
        if row.state == rows::ACTIVE {
            let der = kek.open(&row.kid, &row.private_key)?;
            let key = SigningKey::from_pkcs8(alg, &der)?;
            signers.insert(alg, (row.kid.clone(), Arc::new(key)));
        }
        let jwk: serde_json::Value = serde_json::from_str(&row.public_jwk)
            .map_err(|e| KeyError::Crypto(format!("stored JWK {}: {e}", row.kid)))?;
        public.push((row.kid, alg, jwk));
    }
    for alg in Alg::ALL {
        if !signers.contains_key(&alg) {
            return Err(KeyError::NoActiveKey(alg.name()));
        }
    }
    KeyRing::new(signers, public)
}
