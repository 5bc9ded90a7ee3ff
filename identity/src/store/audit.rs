//! The audit log: append-only security events.

use super::{DbConnection, StoreError};
use diesel::prelude::*;
use tessera_schema::rows::AuditEventRow;
use tessera_schema::tables::audit_events;

pub fn append(conn: &mut DbConnection, row: &AuditEventRow) -> Result<(), StoreError> {
    diesel::insert_into(audit_events::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn recent(conn: &mut DbConnection, limit: i64) -> Result<Vec<AuditEventRow>, StoreError> {
    Ok(audit_events::table
        .order(audit_events::at.desc())
        .limit(limit)
        .select(AuditEventRow::as_select())
        .load(conn)?)
}
