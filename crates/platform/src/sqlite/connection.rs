//! A database file behind one writer thread and a few reader threads. The writer owns the only
//! connection that writes ([`super::writer`]): SQLite serialises writers anyway, so one
//! connection makes every transaction free of `SQLITE_BUSY`, and writes that queue up meanwhile
//! share one commit. Reads go to read-only connections ([`super::readers`]) that WAL lets run
//! beside the writer. No call blocks a runtime thread or waits on a lock.

use std::path::Path;
use std::sync::Arc;

use rusqlite::Connection;

use super::checkpointer::Checkpointer;
use super::readers::Readers;
use super::tuning::tune;
use super::writer::{Changes, Writer};
use crate::store::StoreError;

/// Read connections per database: reads are short, and the machines are small.
const MAX_READERS: usize = 4;

#[derive(Clone)]
pub struct Sqlite {
    inner: Arc<Inner>,
}

struct Inner {
    // Dropped in this order: the checkpointer and the readers first, then the writer, which
    // closes the file.
    _checkpointer: Option<Checkpointer>,
    readers: Option<Readers>,
    writer: Writer,
}

impl Sqlite {
    /// Opens (creating the file and its directory) and migrates. `migrations[i]` moves the schema
    /// from version `i` to `i + 1`; applied ones are tracked in `PRAGMA user_version`.
    pub fn open(path: &Path, migrations: &[&str]) -> Result<Self, StoreError> {
        // SQLite's name for a private in-memory database: a read connection would open another.
        if path.as_os_str() == ":memory:" {
            return Self::open_in_memory(migrations);
        }
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(StoreError::backend)?;
        }
        let name = path
            .file_stem()
            .map_or_else(|| "db".into(), |s| s.to_string_lossy().into_owned());
        let writer = Self::migrated(Connection::open(path)?, migrations)?;
        // The checkpointer thread copies the log back instead (see `checkpointer`).
        writer.pragma_update(None, "wal_autocheckpoint", 0)?;
        let readers = std::thread::available_parallelism().map_or(2, |n| n.get().min(MAX_READERS));
        let readers = Readers::open(path, readers, &name)?;
        let checkpointer = Checkpointer::start(path, &name)?;
        Self::start(writer, Some(readers), Some(checkpointer), &name)
    }

    /// A private database without read connections: reads run on the writer.
    pub fn open_in_memory(migrations: &[&str]) -> Result<Self, StoreError> {
        let writer = Self::migrated(Connection::open_in_memory()?, migrations)?;
        Self::start(writer, None, None, "memory")
    }

    fn start(
        conn: Connection,
        readers: Option<Readers>,
        checkpointer: Option<Checkpointer>,
        name: &str,
    ) -> Result<Self, StoreError> {
        Ok(Self {
            inner: Arc::new(Inner {
                _checkpointer: checkpointer,
                readers,
                writer: Writer::start(conn, name).map_err(StoreError::backend)?,
            }),
        })
    }

    fn migrated(mut conn: Connection, migrations: &[&str]) -> Result<Connection, StoreError> {
        // WAL lets the read connections (and other processes: backups, the sqlite3 shell) run
        // beside the writer; NORMAL sync keeps every committed transaction across a process crash.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        let sync = crate::config::var_or("SQLITE_SYNCHRONOUS", "NORMAL");
        conn.pragma_update(None, "synchronous", sync)?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        tune(&conn)?;
        let version: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        for (i, sql) in migrations.iter().enumerate().skip(version) {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", i + 1)?;
            tx.commit()?;
        }
        Ok(conn)
    }

    /// Runs `f` alone on the write connection (outside any group commit): it may begin and
    /// commit its own transactions.
    pub async fn call<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<R, StoreError> + Send + 'static,
    {
        self.inner.writer.call(f).await
    }

    /// Runs `f` inside its own savepoint of the next group commit, and answers once that commit
    /// is done. `f` must not begin or end transactions; an error or [`Changes::Undo`] rolls back
    /// its changes only, never those of the writes committed with it.
    pub async fn write<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<Changes<R>, StoreError> + Send + 'static,
    {
        self.inner.writer.write(f).await
    }

    /// Runs `f` on a read connection: it sees every write answered before it was sent.
    pub async fn read<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    {
        match &self.inner.readers {
            Some(readers) => readers.read(f).await,
            None => self.inner.writer.call(move |c| f(c)).await,
        }
    }

    /// A trivial query, for readiness checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.read(|c| Ok(c.query_row("SELECT 1", [], |_| Ok(()))?))
            .await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;

    const NOTES: &[&str] = &["CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL);"];

    fn note(c: &Connection, id: i64) -> Result<(), StoreError> {
        c.execute("INSERT INTO notes (id, text) VALUES (?1, 'x')", [id])?;
        Ok(())
    }

    fn ids(c: &Connection) -> Result<Vec<i64>, StoreError> {
        let mut stmt = c.prepare_cached("SELECT id FROM notes ORDER BY id")?;
        let ids = stmt.query_map([], |r| r.get(0))?;
        Ok(ids.collect::<rusqlite::Result<_>>()?)
    }

    /// Holds the writer until the returned sender is used, so what is sent meanwhile queues up.
    async fn hold_writer(db: &Sqlite) -> mpsc::Sender<()> {
        let (release, held) = mpsc::channel::<()>();
        let (started, running) = tokio::sync::oneshot::channel();
        let db = db.clone();
        tokio::spawn(async move {
            db.call(move |c| {
                // A fresh WAL, so what the queued writes append can be counted.
                c.pragma_update(None, "wal_autocheckpoint", 0)?;
                c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
                let _ = started.send(());
                let _ = held.recv();
                Ok(())
            })
            .await
        });
        running.await.unwrap();
        release
    }

    /// Frames in the write-ahead log: each commit appends the pages it changed.
    async fn wal_frames(db: &Sqlite) -> i64 {
        db.call(|c| Ok(c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1))?))
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn the_log_is_copied_back_beside_the_writer_so_it_stops_growing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.db");
        let db = Sqlite::open(&path, NOTES).unwrap();
        let log = dir.path().join("notes.db-wal");
        let mut largest = 0;
        for burst in 0..8i64 {
            for i in 0..400 {
                let id = burst * 1000 + i;
                db.write(move |c| note(c, id).map(Changes::Keep))
                    .await
                    .unwrap();
            }
            // A pause longer than the checkpoint period: the next write starts the log anew.
            tokio::time::sleep(std::time::Duration::from_millis(600)).await;
            largest = largest.max(std::fs::metadata(&log).map_or(0, |m| m.len()));
        }
        // 3,200 commits of at least one 4 KiB page each: over 13 MB of log if nothing copied it
        // back (the writer's own automatic checkpoint is off).
        assert!(largest < 4 << 20, "the log grew to {largest} bytes");
        assert_eq!(db.read(ids).await.unwrap().len(), 3200);
    }

    #[tokio::test]
    async fn writes_queued_together_commit_together_and_each_keeps_only_its_own_outcome() {
        let dir = tempfile::tempdir().unwrap();
        let db = Sqlite::open(&dir.path().join("notes.db"), NOTES).unwrap();
        let release = hold_writer(&db).await;
        let mut writes = Vec::new();
        for id in 1..=40i64 {
            let db = db.clone();
            writes.push(tokio::spawn(async move {
                db.write(move |c| {
                    note(c, id)?;
                    match id % 4 {
                        // A duplicate key after its first insert: that insert goes too.
                        1 => note(c, id).map(Changes::Keep),
                        // Refused after writing, without an error.
                        2 => Ok(Changes::Undo(())),
                        3 if id == 3 => panic!("a bug in one write"),
                        _ => Ok(Changes::Keep(())),
                    }
                })
                .await
            }));
        }
        // Every write is queued behind the held writer before it is released.
        tokio::task::yield_now().await;
        release.send(()).unwrap();
        let mut outcomes = Vec::new();
        for (id, w) in (1..).zip(writes) {
            outcomes.push((id, w.await.unwrap()));
        }
        for (id, outcome) in &outcomes {
            match (id % 4, id) {
                (1, _) | (3, 3) => assert!(outcome.is_err(), "{id}"),
                _ => assert!(outcome.is_ok(), "{id}: {outcome:?}"),
            }
        }
        let kept: Vec<i64> = (1..=40)
            .filter(|i| i % 4 == 0 || (i % 4 == 3 && *i != 3))
            .collect();
        assert_eq!(db.read(ids).await.unwrap(), kept);
        // One commit for all forty: a commit per write would append at least one frame each.
        let frames = wal_frames(&db).await;
        assert!(frames < 10, "{frames} WAL frames for one group");
    }

    #[tokio::test]
    async fn a_read_sees_every_write_answered_before_it_and_runs_beside_a_long_write() {
        let dir = tempfile::tempdir().unwrap();
        let db = Sqlite::open(&dir.path().join("notes.db"), NOTES).unwrap();
        for id in 1..=3 {
            db.write(move |c| note(c, id).map(Changes::Keep))
                .await
                .unwrap();
        }
        let release = hold_writer(&db).await;
        // The writer is busy; the readers are not.
        assert_eq!(db.read(ids).await.unwrap(), [1, 2, 3]);
        let refused = db.read(|c| note(c, 9)).await;
        assert!(refused.is_err(), "a read connection cannot write");
        release.send(()).unwrap();
        assert!(db.ping().await.is_ok());
    }

    #[tokio::test]
    async fn a_call_runs_its_own_transaction_between_groups_and_memory_by_name_reads_its_writes() {
        let db = Sqlite::open(Path::new(":memory:"), NOTES).unwrap();
        db.write(|c| note(c, 1).map(Changes::Keep)).await.unwrap();
        let rolled_back = db
            .call(|c| {
                let tx = c.transaction()?;
                note(&tx, 2)?;
                note(&tx, 2)
            })
            .await;
        assert!(rolled_back.is_err());
        db.call(|c| {
            let tx = c.transaction()?;
            note(&tx, 3)?;
            Ok(tx.commit()?)
        })
        .await
        .unwrap();
        db.write(|c| note(c, 4).map(Changes::Keep)).await.unwrap();
        assert_eq!(db.read(ids).await.unwrap(), [1, 3, 4]);
    }
}
