//! The embedded SQLite store: the shared connection and the conversions between domain values and
//! SQLite columns.

mod columns;
mod connection;

pub use columns::{RowExt, bad_column, from_millis, millis};
pub use connection::Sqlite;
