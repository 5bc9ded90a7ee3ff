//! Refresh-token families and the tokens in them. A token row is rotated by
//! a conditional update, so two concurrent uses of one token cannot both win.

use super::{DbConnection, StoreError};
use diesel::prelude::*;
use tessera_schema::rows::{RefreshFamilyRow, RefreshTokenRow};
use tessera_schema::tables::{refresh_families, refresh_tokens};

pub fn insert_family(conn: &mut DbConnection, row: &RefreshFamilyRow) -> Result<(), StoreError> {
    diesel::insert_into(refresh_families::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn insert_token(conn: &mut DbConnection, row: &RefreshTokenRow) -> Result<(), StoreError> {
    diesel::insert_into(refresh_tokens::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// The token and its family, by the token's hash.
pub fn token_with_family(
    conn: &mut DbConnection,
    token_hash: &str,
) -> Result<Option<(RefreshTokenRow, RefreshFamilyRow)>, StoreError> {
    Ok(refresh_tokens::table
        .inner_join(refresh_families::table)
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .select((RefreshTokenRow::as_select(), RefreshFamilyRow::as_select()))
        .first(conn)
        .optional()?)
}

/// Marks the token used; false when it had already been rotated.
pub fn mark_rotated(
    conn: &mut DbConnection,
    token_hash: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let n = diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(token_hash))
            .filter(refresh_tokens::rotated_at.is_null()),
    )
    .set(refresh_tokens::rotated_at.eq(Some(now)))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn revoke_family(
    conn: &mut DbConnection,
    family_id: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let n = diesel::update(
        refresh_families::table
            .filter(refresh_families::id.eq(family_id))
            .filter(refresh_families::revoked_at.is_null()),
    )
    .set(refresh_families::revoked_at.eq(Some(now)))
    .execute(conn)?;
    Ok(n == 1)
}

/// Revokes every family started in one provider session (logout).
pub fn revoke_session_families(
    conn: &mut DbConnection,
    sid: &str,
    now: i64,
) -> Result<usize, StoreError> {
    Ok(diesel::update(
        refresh_families::table
            .filter(refresh_families::sid.eq(sid))
            .filter(refresh_families::revoked_at.is_null()),
    )
    .set(refresh_families::revoked_at.eq(Some(now)))
    .execute(conn)?)
}

/// Revokes every family of one client (the client was removed).
pub fn revoke_client_families(
    conn: &mut DbConnection,
    client_id: &str,
    now: i64,
) -> Result<usize, StoreError> {
    Ok(diesel::update(
        refresh_families::table
            .filter(refresh_families::client_id.eq(client_id))
            .filter(refresh_families::revoked_at.is_null()),
    )
    .set(refresh_families::revoked_at.eq(Some(now)))
    .execute(conn)?)
}

/// Revokes every family of a user at one client (consent withdrawn).
pub fn revoke_user_client_families(
    conn: &mut DbConnection,
    user_id: &str,
    client_id: &str,
    now: i64,
) -> Result<usize, StoreError> {
    Ok(diesel::update(
        refresh_families::table
            .filter(refresh_families::user_id.eq(user_id))
            .filter(refresh_families::client_id.eq(client_id))
            .filter(refresh_families::revoked_at.is_null()),
    )
    .set(refresh_families::revoked_at.eq(Some(now)))
    .execute(conn)?)
}

/// The family (grant) by id, if it belongs to `user_id`.
pub fn family_of_user(
    conn: &mut DbConnection,
    family_id: &str,
    user_id: &str,
) -> Result<Option<RefreshFamilyRow>, StoreError> {
    Ok(refresh_families::table
        .filter(refresh_families::id.eq(family_id))
        .filter(refresh_families::user_id.eq(user_id))
        .select(RefreshFamilyRow::as_select())
        .first(conn)
        .optional()?)
}

/// Revokes every family of a user (a credential changed, the user was disabled).
pub fn revoke_user_families(
    conn: &mut DbConnection,
    user_id: &str,
    now: i64,
) -> Result<usize, StoreError> {
    Ok(diesel::update(
        refresh_families::table
            .filter(refresh_families::user_id.eq(user_id))
            .filter(refresh_families::revoked_at.is_null()),
    )
    .set(refresh_families::revoked_at.eq(Some(now)))
    .execute(conn)?)
}
