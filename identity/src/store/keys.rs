//! Signing key rows. At most one `active` and one `next` key per algorithm
//! (a partial unique index); `retired` keys stay until pruned.

use super::{DbConnection, StoreError};
use diesel::prelude::*;
use tessera_schema::rows::SigningKeyRow;
use tessera_schema::tables::signing_keys;

pub const ACTIVE: &str = "active";
pub const NEXT: &str = "next";
pub const RETIRED: &str = "retired";

pub fn insert(conn: &mut DbConnection, row: &SigningKeyRow) -> Result<(), StoreError> {
    diesel::insert_into(signing_keys::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn all(conn: &mut DbConnection) -> Result<Vec<SigningKeyRow>, StoreError> {
    Ok(signing_keys::table
        .order((signing_keys::alg.asc(), signing_keys::created_at.asc()))
        .select(SigningKeyRow::as_select())
        .load(conn)?)
}

pub fn in_state(
    conn: &mut DbConnection,
    alg: &str,
    state: &str,
) -> Result<Option<SigningKeyRow>, StoreError> {
    Ok(signing_keys::table
        .filter(signing_keys::alg.eq(alg))
        .filter(signing_keys::state.eq(state))
        .select(SigningKeyRow::as_select())
        .first(conn)
        .optional()?)
}

/// Moves a key from one state to another; false when it was no longer in
/// `from` (another process rotated first).
pub fn transition(
    conn: &mut DbConnection,
    kid: &str,
    from: &str,
    to: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let target = signing_keys::table
        .filter(signing_keys::kid.eq(kid))
        .filter(signing_keys::state.eq(from));
    let n = match to {
        ACTIVE => diesel::update(target)
            .set((
                signing_keys::state.eq(to),
                signing_keys::activated_at.eq(Some(now)),
            ))
            .execute(conn)?,
        RETIRED => diesel::update(target)
            .set((
                signing_keys::state.eq(to),
                signing_keys::retired_at.eq(Some(now)),
            ))
            .execute(conn)?,
        _ => diesel::update(target)
            .set(signing_keys::state.eq(to))
            .execute(conn)?,
    };
    Ok(n == 1)
}

/// Deletes retired keys retired before `before`: no unexpired token can
/// carry their signature any more.
pub fn delete_retired_before(conn: &mut DbConnection, before: i64) -> Result<usize, StoreError> {
    Ok(diesel::delete(
        signing_keys::table
            .filter(signing_keys::state.eq(RETIRED))
            .filter(signing_keys::retired_at.lt(before)),
    )
    .execute(conn)?)
}
