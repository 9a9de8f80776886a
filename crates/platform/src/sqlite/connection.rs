//! One connection per database file, used from a blocking thread so
//! the async runtime never waits on disk. One connection serialises writers, which is what
//! SQLite does anyway, and makes every transaction trivially free of `SQLITE_BUSY`.

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;

use crate::store::StoreError;

#[derive(Clone)]
pub struct Sqlite {
    conn: Arc<Mutex<Connection>>,
}

impl Sqlite {
    /// Opens (creating the file and its directory) and migrates. `migrations[i]` moves the schema
    /// from version `i` to `i + 1`; applied ones are tracked in `PRAGMA user_version`.
    pub fn open(path: &Path, migrations: &[&str]) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(StoreError::backend)?;
        }
        let conn = Connection::open(path)?;
        Self::init(conn, migrations)
    }

    pub fn open_in_memory(migrations: &[&str]) -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory()?, migrations)
    }

    fn init(mut conn: Connection, migrations: &[&str]) -> Result<Self, StoreError> {
        // WAL lets readers of other processes (backups, the sqlite3 shell) run beside the writer;
        // NORMAL sync keeps every committed transaction across a process crash.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        let sync = crate::config::var_or("SQLITE_SYNCHRONOUS", "NORMAL");
        conn.pragma_update(None, "synchronous", sync)?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let version: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        for (i, sql) in migrations.iter().enumerate().skip(version) {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", i + 1)?;
            tx.commit()?;
        }
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` with the connection on a blocking thread.
    pub async fn call<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<R, StoreError> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(StoreError::backend)?
    }

    /// A trivial query, for readiness checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.call(|c| Ok(c.query_row("SELECT 1", [], |_| Ok(()))?))
            .await
    }
}
