//! Resource server rows.

use super::{DbConnection, StoreError};
use diesel::prelude::*;
use tessera_schema::rows::ResourceServerRow;
use tessera_schema::tables::resource_servers;

pub fn insert(conn: &mut DbConnection, row: &ResourceServerRow) -> Result<(), StoreError> {
    diesel::insert_into(resource_servers::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn by_identifier(
    conn: &mut DbConnection,
    identifier: &str,
) -> Result<Option<ResourceServerRow>, StoreError> {
    Ok(resource_servers::table
        .filter(resource_servers::identifier.eq(identifier))
        .select(ResourceServerRow::as_select())
        .first(conn)
        .optional()?)
}

/// The resource servers that introspect as `client_id`.
pub fn introspected_by(
    conn: &mut DbConnection,
    client_id: &str,
) -> Result<Vec<String>, StoreError> {
    Ok(resource_servers::table
        .filter(resource_servers::introspection_client_id.eq(client_id))
        .select(resource_servers::identifier)
        .load(conn)?)
}

pub fn list(conn: &mut DbConnection) -> Result<Vec<ResourceServerRow>, StoreError> {
    Ok(resource_servers::table
        .order(resource_servers::identifier.asc())
        .select(ResourceServerRow::as_select())
        .load(conn)?)
}

pub fn delete(conn: &mut DbConnection, identifier: &str) -> Result<bool, StoreError> {
    Ok(
        diesel::delete(resource_servers::table.filter(resource_servers::identifier.eq(identifier)))
            .execute(conn)?
            == 1,
    )
}
