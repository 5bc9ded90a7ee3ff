//! Password login: throttling, constant-cost verification, and the silent
//! upgrade of hashes made with older parameters.

use super::password::Verified;
use super::throttle::{Account, LoginThrottle};
use super::users::{User, UserError, Users};
use crate::audit::{self, Event, EventKind};
use crate::store::StoreError;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Unknown user, wrong password, disabled account, or no password: one
    /// answer for all, so nobody learns which accounts exist.
    #[error("invalid username or password")]
    InvalidCredentials,
    #[error("too many failed attempts; retry in {retry_after} s")]
    Throttled { retry_after: i64 },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    User(#[from] UserError),
}

pub async fn authenticate(
    users: &Users,
    throttle: &LoginThrottle,
    login: &str,
    password: &str,
    ip: &str,
    now: i64,
) -> Result<User, LoginError> {
    let row = if password.len() > super::users::MAX_PASSWORD_LEN {
        None
    } else {
        users.row_by_login(login).await?
    };
    // One counter per account, whichever identifier was typed; reserved
    // before hashing so parallel attempts cannot exceed the limit.
    let account = match &row {
        Some(r) => Account::User(&r.id),
        None => Account::Unknown(login),
    };
    if let Err(retry_after) = throttle.reserve(account, ip, now).await? {
        let mut event = Event::new(EventKind::LoginThrottled).detail(json!({ "ip": ip }));
        if let Some(row) = &row {
            event = event.user(&row.id);
        }
        audit::record(users.db(), event, now).await;
        return Err(LoginError::Throttled { retry_after });
    }
    let stored = row.as_ref().and_then(|r| r.password_hash.clone());
    let verified = users.hasher().verify(stored, password.to_string()).await;
    let (row, needs_rehash) = match (row, verified) {
        (Some(row), Verified::Correct { needs_rehash }) if !row.disabled => (row, needs_rehash),
        (row, _) => {
            throttle.record_failure(ip, now).await?;
            let mut event = Event::new(EventKind::LoginFailed).detail(json!({ "ip": ip }));
            if let Some(row) = &row {
                event = event.user(&row.id);
            }
            audit::record(users.db(), event, now).await;
            return Err(LoginError::InvalidCredentials);
        }
    };
    // The sign-in itself is recorded where every sign-in ends (`signin`);
    // the password may be only its first step.
    throttle.record_success(Account::User(&row.id)).await?;
    if needs_rehash {
        match users.hasher().hash(password.to_string()).await {
            Ok(hash) => users.store_hash(&row.id, hash, now).await?,
            Err(e) => tracing::warn!(error = %e, "password rehash failed; keeping the old hash"),
        }
    }
    Ok(row.into())
}
