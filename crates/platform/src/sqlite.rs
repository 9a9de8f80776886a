//! The embedded SQLite store: the shared connection, a service's database migrated to its schema,
//! and the conversions between domain values and SQLite columns.

mod columns;
mod connection;
mod migrated;

pub use columns::{RowExt, bad_column, from_millis, millis};
pub use connection::Sqlite;
pub use migrated::{Migrated, Schema};
