//! Copies the write-ahead log back into the database file on a thread of its own. SQLite's
//! automatic checkpoint runs on the connection that commits, so every thousandth page or so a
//! commit also wrote the log back and synced both files while the bookings queued behind it
//! waited; here the writer only appends to the log, and this thread checkpoints beside it
//! (`PASSIVE`: it never blocks the writer or the readers).

use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

use crate::store::StoreError;

/// How often the log is copied back. Between two checkpoints the log grows by what was committed
/// meanwhile; a checkpoint with nothing to copy only reads the log's index.
const EVERY: Duration = Duration::from_millis(250);

pub(super) struct Checkpointer {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts checkpointing the database at `path`, whose writer must run with
    /// `wal_autocheckpoint` off.
    pub(super) fn start(path: &Path, name: &str) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        super::tuning::tune(&conn)?;
        let (stop, stopped) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name(format!("sqlite-checkpoint-{name}"))
            .spawn(move || run(&conn, &stopped))
            .map_err(StoreError::backend)?;
        Ok(Self {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

fn run(conn: &Connection, stopped: &Receiver<()>) {
    while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(EVERY) {
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "checkpoint failed; the next one retries");
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            // Its connection is closed before the writer's, which then checkpoints what is left.
            let _ = thread.join();
        }
    }
}
