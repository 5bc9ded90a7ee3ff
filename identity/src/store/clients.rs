//! OAuth client rows.

use super::{DbConnection, StoreError};
use diesel::prelude::*;
use tessera_schema::rows::ClientRow;
use tessera_schema::tables::clients;

pub fn insert(conn: &mut DbConnection, row: &ClientRow) -> Result<(), StoreError> {
    diesel::insert_into(clients::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn by_id(conn: &mut DbConnection, id: &str) -> Result<Option<ClientRow>, StoreError> {
    Ok(clients::table
        .filter(clients::id.eq(id))
        .select(ClientRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn list(conn: &mut DbConnection) -> Result<Vec<ClientRow>, StoreError> {
    Ok(clients::table
        .order(clients::id.asc())
        .select(ClientRow::as_select())
        .load(conn)?)
}

pub fn delete(conn: &mut DbConnection, id: &str) -> Result<bool, StoreError> {
    Ok(diesel::delete(clients::table.filter(clients::id.eq(id))).execute(conn)? == 1)
}
