//! The settings every connection of a database gets, the writer's and the readers'.

use rusqlite::Connection;

/// Prepared statements kept per connection: every query a store runs, so none is parsed twice.
const CACHED_STATEMENTS: usize = 128;

/// Settings of every connection, the writer's and the readers'.
pub(super) fn tune(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.set_prepared_statement_cache_capacity(CACHED_STATEMENTS);
    Ok(())
}
