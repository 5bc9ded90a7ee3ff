//! Remembered consent: which scopes a user granted a client.

use super::{DbConnection, StoreError};
use diesel::prelude::*;
use tessera_schema::rows::ConsentRow;
use tessera_schema::tables::consents;

pub fn get(
    conn: &mut DbConnection,
    user_id: &str,
    client_id: &str,
) -> Result<Option<ConsentRow>, StoreError> {
    Ok(consents::table
        .filter(consents::user_id.eq(user_id))
        .filter(consents::client_id.eq(client_id))
        .select(ConsentRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn for_user(conn: &mut DbConnection, user_id: &str) -> Result<Vec<ConsentRow>, StoreError> {
    Ok(consents::table
        .filter(consents::user_id.eq(user_id))
        .order(consents::client_id.asc())
        .select(ConsentRow::as_select())
        .load(conn)?)
}

/// Replaces the consent of (user, client). Runs delete + insert, which is
/// portable across both backends; callers run it in a transaction.
pub fn replace(conn: &mut DbConnection, row: &ConsentRow) -> Result<(), StoreError> {
    delete(conn, &row.user_id, &row.client_id)?;
    diesel::insert_into(consents::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn delete(conn: &mut DbConnection, user_id: &str, client_id: &str) -> Result<bool, StoreError> {
    Ok(diesel::delete(
        consents::table
            .filter(consents::user_id.eq(user_id))
            .filter(consents::client_id.eq(client_id)),
    )
    .execute(conn)?
        == 1)
}
