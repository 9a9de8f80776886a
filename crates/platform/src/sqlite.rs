//! The embedded SQLite store: the database behind its writer thread and read connections, a
//! service's database migrated to its schema, and the conversions between domain values and
//! SQLite columns.

mod cached;
mod checkpointer;
mod columns;
mod connection;
mod migrated;
mod readers;
mod tuning;
mod writer;

pub use cached::Cached;
pub use columns::{RowExt, bad_column, from_millis, millis};
pub use connection::Sqlite;
pub use migrated::{Migrated, Schema};
pub use writer::Changes;
