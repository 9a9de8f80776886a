//! The embedded SQLite store: the database behind its writer thread and read connections, a
//! service's database migrated to its schema, the conversions between domain values and SQLite
//! columns, and the reads of one row by id or of all rows a query finds.

mod cached;
mod checkpointer;
mod columns;
mod connection;
mod find;
mod migrated;
mod readers;
mod tuning;
mod writer;

pub use cached::Cached;
pub use columns::{RowExt, bad_column, from_millis, millis};
pub use connection::Sqlite;
pub use find::{row_by_id, rows};
pub use migrated::{Migrated, Schema};
pub use writer::Changes;
