//! Stored passkeys: list, rename, remove, and the bookkeeping after a use.

use crate::store::{passkeys as rows, users as user_rows, Db, StoreError};
use serde::Serialize;
use tessera_schema::rows::PasskeyRow;
use webauthn_rs::prelude::Passkey;

/// A passkey as the account page and the CLI show it.
#[derive(Debug, Clone, Serialize)]
pub struct PasskeyInfo {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    /// "synced" (backup-eligible) or "device-bound".
    pub kind: &'static str,
    pub possibly_cloned: bool,
}

impl From<&PasskeyRow> for PasskeyInfo {
    fn from(r: &PasskeyRow) -> PasskeyInfo {
        PasskeyInfo {
            id: r.id.clone(),
            name: r.name.clone(),
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            kind: if r.backup_eligible {
                "synced"
            } else {
                "device-bound"
            },
            possibly_cloned: r.possibly_cloned,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PasskeyStoreError {
    #[error("no such passkey")]
    NotFound,
    #[error("this is the account's last way to sign in; add another first")]
    LastCredential,
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Clone)]
pub struct Passkeys {
    db: Db,
}

pub fn check_name(name: &str) -> Result<String, PasskeyStoreError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(PasskeyStoreError::Invalid(
            "a passkey name has 1 to 64 characters".into(),
        ));
    }
    Ok(name.to_string())
}

impl Passkeys {
    pub fn new(db: Db) -> Passkeys {
        Passkeys { db }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub async fn list(&self, user_id: &str) -> Result<Vec<PasskeyInfo>, StoreError> {
        let id = user_id.to_string();
        Ok(self
            .db
            .run(move |c| rows::for_user(c, &id))
            .await?
            .iter()
            .map(PasskeyInfo::from)
            .collect())
    }

    /// The user's credentials as webauthn-rs needs them, skipping any
    /// marked as possibly cloned.
    pub(crate) async fn usable(
        &self,
        user_id: &str,
    ) -> Result<Vec<(PasskeyRow, Passkey)>, StoreError> {
        let id = user_id.to_string();
        let all = self.db.run(move |c| rows::for_user(c, &id)).await?;
        let mut out = Vec::new();
        for row in all.into_iter().filter(|r| !r.possibly_cloned) {
            let key: Passkey = serde_json::from_str(&row.credential)
                .map_err(|e| StoreError::Corrupt(format!("passkey {}: {e}", row.id)))?;
            out.push((row, key));
        }
        Ok(out)
    }

    pub async fn rename(
        &self,
        user_id: &str,
        id: &str,
        name: &str,
    ) -> Result<(), PasskeyStoreError> {
        let name = check_name(name)?;
        let (u, i) = (user_id.to_string(), id.to_string());
        let found = self.db.run(move |c| rows::rename(c, &u, &i, &name)).await?;
        found.then_some(()).ok_or(PasskeyStoreError::NotFound)
    }

    /// Removes a passkey, unless it is the account's last way to sign in
    /// (no password and no other passkey). Checked and removed in one
    /// transaction.
    /// Removes one of the user's passkeys; like every credential change it
    /// ends the user's grants and sessions, and returns their new session
    /// generation.
    pub async fn remove(
        &self,
        user_id: &str,
        id: &str,
        now: i64,
    ) -> Result<i64, PasskeyStoreError> {
        let (u, i) = (user_id.to_string(), id.to_string());
        let outcome = self
            .db
            .transaction(move |c| {
                let user = user_rows::by_id(c, &u)?;
                let keys = rows::for_user(c, &u)?;
                if !keys.iter().any(|k| k.id == i) {
                    return Ok(Err(PasskeyStoreError::NotFound));
                }
                let has_password = user.is_some_and(|r| r.password_hash.is_some());
                if !has_password && keys.len() == 1 {
                    return Ok(Err(PasskeyStoreError::LastCredential));
                }
                rows::delete(c, &u, &i)?;
                let generation = crate::accounts::end_grants_and_sessions(c, &u, now)?;
                let event = crate::audit::Event::new(crate::audit::EventKind::PasskeyRemoved)
                    .user(&u)
                    .detail(serde_json::json!({ "passkey": i }));
                crate::audit::record_in(c, event, now)?;
                Ok(Ok(generation))
            })
            .await?;
        outcome
    }
}
