//! Passkey rows.

use super::{DbConnection, StoreError};
use diesel::prelude::*;
use tessera_schema::rows::PasskeyRow;
use tessera_schema::tables::passkeys;

pub fn insert(conn: &mut DbConnection, row: &PasskeyRow) -> Result<(), StoreError> {
    diesel::insert_into(passkeys::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn for_user(conn: &mut DbConnection, user_id: &str) -> Result<Vec<PasskeyRow>, StoreError> {
    Ok(passkeys::table
        .filter(passkeys::user_id.eq(user_id))
        .order(passkeys::created_at.asc())
        .select(PasskeyRow::as_select())
        .load(conn)?)
}

pub fn by_id(conn: &mut DbConnection, id: &str) -> Result<Option<PasskeyRow>, StoreError> {
    Ok(passkeys::table
        .filter(passkeys::id.eq(id))
        .select(PasskeyRow::as_select())
        .first(conn)
        .optional()?)
}

/// After a successful authentication: the updated credential and flags.
pub fn record_use(
    conn: &mut DbConnection,
    id: &str,
    credential: &str,
    sign_count: i64,
    backup_state: bool,
    now: i64,
) -> Result<bool, StoreError> {
    let n = diesel::update(passkeys::table.filter(passkeys::id.eq(id)))
        .set((
            passkeys::credential.eq(credential),
            passkeys::sign_count.eq(sign_count),
            passkeys::backup_state.eq(backup_state),
            passkeys::last_used_at.eq(Some(now)),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

pub fn mark_possibly_cloned(conn: &mut DbConnection, id: &str) -> Result<bool, StoreError> {
    let n = diesel::update(passkeys::table.filter(passkeys::id.eq(id)))
        .set(passkeys::possibly_cloned.eq(true))
        .execute(conn)?;
    Ok(n == 1)
}

pub fn rename(
    conn: &mut DbConnection,
    user_id: &str,
    id: &str,
    name: &str,
) -> Result<bool, StoreError> {
    let n = diesel::update(
        passkeys::table
            .filter(passkeys::id.eq(id))
            .filter(passkeys::user_id.eq(user_id)),
    )
    .set(passkeys::name.eq(name))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn delete(conn: &mut DbConnection, user_id: &str, id: &str) -> Result<bool, StoreError> {
    let n = diesel::delete(
        passkeys::table
            .filter(passkeys::id.eq(id))
            .filter(passkeys::user_id.eq(user_id)),
    )
    .execute(conn)?;
    Ok(n == 1)
}

pub fn set_backup_eligible(
    conn: &mut DbConnection,
    id: &str,
    eligible: bool,
) -> Result<bool, StoreError> {
    let n = diesel::update(passkeys::table.filter(passkeys::id.eq(id)))
        .set(passkeys::backup_eligible.eq(eligible))
        .execute(conn)?;
    Ok(n == 1)
}
