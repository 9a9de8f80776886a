//! The settings every connection of a database gets, the writer's and the readers'.

use rusqlite::Connection;

/// Prepared statements kept per connection: every query a store runs, so none is parsed twice.
const CACHED_STATEMENTS: usize = 128;

/// Settings of every connection, the writer's and the readers'.
pub(super) fn tune(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.set_prepared_statement_cache_capacity(CACHED_STATEMENTS);
    // Temporary files in memory. Above all the savepoint journal of grouped writes: each write
    // of a group commit runs in a savepoint, and on disk that journal cost the writer a
    // system call for every page a write first touched.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(())
}
