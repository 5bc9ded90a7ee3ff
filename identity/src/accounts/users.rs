//! Users: creation with validated usernames and emails, lookup, password
//! changes, disabling. Password hashes never leave this module's rows.

use super::password::PasswordHasher;
use crate::audit::{self, Event, EventKind};
use crate::store::{users as rows, Db, StoreError};
use serde::Serialize;
use tessera_schema::rows::UserRow;

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("{0}")]
    Invalid(String),
    #[error("a user with this username or email already exists")]
    Exists,
    #[error("no such user")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// A user as the rest of the provider sees it.
#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    pub disabled: bool,
    pub has_password: bool,
    /// A password sign-in must be confirmed with a passkey.
    pub passkey_second_factor: bool,
    pub created_at: i64,
    pub updated_at: i64,
    /// Moves on at every credential change; a browser session issued in an
    /// earlier generation is over.
    #[serde(skip)]
    pub session_generation: i64,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> User {
        User {
            has_password: r.password_hash.is_some(),
            passkey_second_factor: r.passkey_second_factor,
            id: r.id,
            username: r.username,
            email: r.email,
            email_verified: r.email_verified,
            name: r.name,
            disabled: r.disabled,
            created_at: r.created_at,
            updated_at: r.updated_at,
            session_generation: r.session_generation,
        }
    }
}

pub struct NewUser {
    pub username: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    pub password: Option<String>,
}

/// Minimum password length (NIST SP 800-63B section 5.1.1.2).
pub const MIN_PASSWORD_LEN: usize = 8;
/// Longest password accepted: bounds the work of one hash.
pub const MAX_PASSWORD_LEN: usize = 1024;

pub fn check_password(password: &str) -> Result<(), UserError> {
    let len = password.chars().count();
    if len < MIN_PASSWORD_LEN {
        return Err(UserError::Invalid(format!(
            "password must be at least {MIN_PASSWORD_LEN} characters"
        )));
    }
    if password.len() > MAX_PASSWORD_LEN {
        return Err(UserError::Invalid("password is too long".into()));
    }
    Ok(())
}

fn check_username(username: &str) -> Result<String, UserError> {
    let username = username.trim().to_ascii_lowercase();
    let valid = (1..=64).contains(&username.len())
        && username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if !valid {
        return Err(UserError::Invalid(
            "username must be 1-64 characters of a-z, 0-9, '.', '_' or '-'".into(),
        ));
    }
    Ok(username)
}

fn check_email(email: &str) -> Result<String, UserError> {
    let email = email.trim().to_ascii_lowercase();
    let valid = email.len() <= 254
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        && !email.chars().any(char::is_whitespace);
    if !valid {
        return Err(UserError::Invalid(format!(
            "`{email}` is not an email address"
        )));
    }
    Ok(email)
}

#[derive(Clone)]
pub struct Users {
    db: Db,
    hasher: PasswordHasher,
}

impl Users {
    pub fn new(db: Db, hasher: PasswordHasher) -> Users {
        Users { db, hasher }
    }

    pub fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub async fn create(&self, new: NewUser, now: i64) -> Result<User, UserError> {
        let username = check_username(&new.username)?;
        let email = new.email.as_deref().map(check_email).transpose()?;
        let password_hash = match new.password {
            Some(p) => {
                check_password(&p)?;
                Some(self.hasher.hash(p).await.map_err(UserError::Hash)?)
            }
            None => None,
        };
        let row = UserRow {
            id: crate::crypto::new_id(),
            username,
            email,
            email_verified: new.email_verified,
            name: new.name.filter(|n| !n.trim().is_empty()),
            password_hash,
            disabled: false,
            created_at: now,
            updated_at: now,
            passkey_second_factor: false,
            session_generation: 0,
        };
        let stored = row.clone();
        match self.db.run(move |c| rows::insert(c, &stored)).await {
            Ok(()) => {
                audit::record(
                    &self.db,
                    Event::new(EventKind::UserCreated).user(&row.id),
                    now,
                )
                .await;
                Ok(row.into())
            }
            Err(e) if e.is_unique_violation() => Err(UserError::Exists),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn by_id(&self, id: &str) -> Result<Option<User>, UserError> {
        // Nobody's id or name holds NUL, and PostgreSQL text could not take it.
        if id.contains('\0') {
            return Ok(None);
        }
        let id = id.to_string();
        Ok(self
            .db
            .run(move |c| rows::by_id(c, &id))
            .await?
            .map(User::from))
    }

    /// The row with its hash, for login only.
    pub(crate) async fn row_by_login(&self, login: &str) -> Result<Option<UserRow>, UserError> {
        if login.contains('\0') {
            return Ok(None);
        }
        let login = login.trim().to_string();
        Ok(self.db.run(move |c| rows::by_login(c, &login)).await?)
    }

    /// Finds a user by id, username or email (the CLI's USER argument).
    pub async fn find(&self, key: &str) -> Result<User, UserError> {
        if let Some(user) = self.by_id(key).await? {
            return Ok(user);
        }
        self.row_by_login(key)
            .await?
            .map(User::from)
            .ok_or(UserError::NotFound)
    }

    pub async fn list(&self) -> Result<Vec<User>, UserError> {
        Ok(self
            .db
            .run(rows::list)
            .await?
            .into_iter()
            .map(User::from)
            .collect())
    }

    pub async fn set_password(
        &self,
        id: &str,
        password: String,
        now: i64,
    ) -> Result<(), UserError> {
        check_password(&password)?;
        let hash = self.hasher.hash(password).await.map_err(UserError::Hash)?;
        let id = id.to_string();
        let found = self
            .db
            .transaction(move |c| {
                if !rows::set_password_hash(c, &id, Some(&hash), now)? {
                    return Ok(false);
                }
                end_grants_and_sessions(c, &id, now)?;
                audit::record_in(c, Event::new(EventKind::PasswordChanged).user(&id), now)?;
                Ok(true)
            })
            .await?;
        found.then_some(()).ok_or(UserError::NotFound)
    }

    /// Stores an already computed hash (the rehash-on-login upgrade).
    pub(crate) async fn store_hash(
        &self,
        id: &str,
        hash: String,
        now: i64,
    ) -> Result<(), UserError> {
        let id = id.to_string();
        let found = self
            .db
            .run(move |c| rows::set_password_hash(c, &id, Some(&hash), now))
            .await?;
        found.then_some(()).ok_or(UserError::NotFound)
    }

    /// Switches the passkey second factor on or off. On needs a usable
    /// passkey, or the account could no longer sign in with its password.
    pub async fn set_second_factor(&self, id: &str, on: bool, now: i64) -> Result<(), UserError> {
        let id = id.to_string();
        let outcome = self
            .db
            .transaction(move |c| {
                if rows::by_id(c, &id)?.is_none() {
                    return Ok(Err(UserError::NotFound));
                }
                let usable = crate::store::passkeys::for_user(c, &id)?
                    .iter()
                    .any(|k| !k.possibly_cloned);
                if on && !usable {
                    return Ok(Err(UserError::Invalid(
                        "the account has no usable passkey to confirm sign-ins with".into(),
                    )));
                }
                rows::set_second_factor(c, &id, on, now)?;
                end_grants_and_sessions(c, &id, now)?;
                Ok(Ok(()))
            })
            .await?;
        outcome
    }

    /// Makes the account passwordless. Refused unless it has a passkey, so
    /// the account keeps a way to sign in; checked in the same transaction.
    pub async fn remove_password(&self, id: &str, now: i64) -> Result<(), UserError> {
        let id = id.to_string();
        let outcome = self
            .db
            .transaction(move |c| {
                if rows::by_id(c, &id)?.is_none() {
                    return Ok(Err(UserError::NotFound));
                }
                let usable = crate::store::passkeys::for_user(c, &id)?
                    .iter()
                    .any(|k| !k.possibly_cloned);
                if !usable {
                    return Ok(Err(UserError::Invalid(
                        "the account has no usable passkey: removing the password would lock it out"
                            .into(),
                    )));
                }
                rows::set_password_hash(c, &id, None, now)?;
                end_grants_and_sessions(c, &id, now)?;
                audit::record_in(c, Event::new(EventKind::PasswordChanged).user(&id), now)?;
                Ok(Ok(()))
            })
            .await?;
        outcome
    }

    /// Disabling also revokes the user's refresh tokens, in one transaction.
    pub async fn set_disabled(&self, id: &str, disabled: bool, now: i64) -> Result<(), UserError> {
        let id = id.to_string();
        let found = self
            .db
            .transaction(move |c| {
                let found = rows::set_disabled(c, &id, disabled, now)?;
                if found && disabled {
                    end_grants_and_sessions(c, &id, now)?;
                }
                if found {
                    let kind = if disabled {
                        EventKind::UserDisabled
                    } else {
                        EventKind::UserEnabled
                    };
                    audit::record_in(c, Event::new(kind).user(&id), now)?;
                }
                Ok(found)
            })
            .await?;
        found.then_some(()).ok_or(UserError::NotFound)
    }
}

/// What a credential change (password set or removed, passkey removed,
/// second factor switched, account disabled) ends, inside the caller's
/// transaction: every grant of the user, so their refresh tokens and,
/// through the grant check, their access tokens stop working at once; and
/// every browser session (the user's session generation moves on, see
/// `BrowserSession::is_live_for`). Returns the new generation (0 for an
/// unknown user, who has no sessions).
pub(crate) fn end_grants_and_sessions(
    c: &mut crate::store::DbConnection,
    user_id: &str,
    now: i64,
) -> Result<i64, StoreError> {
    crate::store::refresh::revoke_user_families(c, user_id, now)?;
    Ok(rows::end_sessions(c, user_id, now)?.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_normalised_and_checked() {
        assert_eq!(check_username(" Alice ").unwrap(), "alice");
        assert!(check_username("").is_err());
        assert!(check_username("a b").is_err());
        assert!(check_username("<script>").is_err());
    }

    #[test]
    fn emails_and_passwords_are_checked() {
        assert_eq!(check_email("A@Example.com").unwrap(), "a@example.com");
        assert!(check_email("nobody").is_err());
        assert!(check_email("@example.com").is_err());
        assert!(check_password("short").is_err());
        assert!(check_password("long enough").is_ok());
    }
}
