//! Tessera's durable schema: diesel `table!` definitions of portable column
//! types (Text, BigInt, Bool, Binary), the row structs that read and write
//! them, and the migrations for each backend, embedded in the binary.
//!
//! The `table!` definitions are kept by hand for both backends; a test in
//! `tessera-identity` migrates each backend and selects every column of
//! every table so the definitions cannot drift from the SQL.

pub mod rows;
pub mod tables;

use diesel_migrations::{embed_migrations, EmbeddedMigrations};

/// Migrations for PostgreSQL (production mode).
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
/// Migrations for SQLite (the embedded default).
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
