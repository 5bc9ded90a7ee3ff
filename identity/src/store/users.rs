//! User rows.

use super::{DbConnection, StoreError};
use diesel::prelude::*;
use tessera_schema::rows::UserRow;
use tessera_schema::tables::users;

pub fn insert(conn: &mut DbConnection, row: &UserRow) -> Result<(), StoreError> {
    diesel::insert_into(users::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn by_id(conn: &mut DbConnection, id: &str) -> Result<Option<UserRow>, StoreError> {
    Ok(users::table
        .filter(users::id.eq(id))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

/// Finds a user by username, or by email when `login` contains `@`.
pub fn by_login(conn: &mut DbConnection, login: &str) -> Result<Option<UserRow>, StoreError> {
    let query = users::table.select(UserRow::as_select()).into_boxed();
    let query = if login.contains('@') {
        query.filter(users::email.eq(login.to_ascii_lowercase()))
    } else {
        query.filter(users::username.eq(login.to_ascii_lowercase()))
    };
    Ok(query.first(conn).optional()?)
}

pub fn list(conn: &mut DbConnection) -> Result<Vec<UserRow>, StoreError> {
    Ok(users::table
        .order(users::username.asc())
        .select(UserRow::as_select())
        .load(conn)?)
}

pub fn set_password_hash(
    conn: &mut DbConnection,
    id: &str,
    hash: Option<&str>,
    now: i64,
) -> Result<bool, StoreError> {
    let n = diesel::update(users::table.filter(users::id.eq(id)))
        .set((users::password_hash.eq(hash), users::updated_at.eq(now)))
        .execute(conn)?;
    Ok(n == 1)
}

/// Ends the user's browser sessions by moving their session generation on
/// (see `BrowserSession::is_live_for`) and marks the user changed; the new
/// generation, or `None` for an unknown user.
pub fn end_sessions(
    conn: &mut DbConnection,
    id: &str,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    Ok(diesel::update(users::table.filter(users::id.eq(id)))
        .set((
            users::updated_at.eq(now),
            users::session_generation.eq(users::session_generation + 1),
        ))
        .returning(users::session_generation)
        .get_result(conn)
        .optional()?)
}

pub fn set_disabled(
    conn: &mut DbConnection,
    id: &str,
    disabled: bool,
    now: i64,
) -> Result<bool, StoreError> {
    let n = diesel::update(users::table.filter(users::id.eq(id)))
        .set((users::disabled.eq(disabled), users::updated_at.eq(now)))
        .execute(conn)?;
    Ok(n == 1)
}

pub fn set_second_factor(
    conn: &mut DbConnection,
    id: &str,
    on: bool,
    now: i64,
) -> Result<bool, StoreError> {
    let n = diesel::update(users::table.filter(users::id.eq(id)))
        .set((
            users::passkey_second_factor.eq(on),
            users::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(n == 1)
}
