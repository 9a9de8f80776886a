//! A few read-only connections, each owned by its own thread, taking reads from one shared
//! queue. In WAL mode they read the last committed state beside the writer without waiting for
//! it, and a read sent after a write was answered sees that write.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use rusqlite::{Connection, OpenFlags};
use tokio::sync::oneshot;

use crate::store::StoreError;

type Read = Box<dyn FnOnce(&Connection) + Send>;

pub(super) struct Readers {
    reads: Option<Sender<Read>>,
    threads: Vec<JoinHandle<()>>,
}

fn stopped() -> StoreError {
    StoreError::corrupt("the database readers have stopped")
}

impl Readers {
    /// `count` read-only connections to the database file at `path`, whose schema is migrated.
    pub(super) fn open(path: &Path, count: usize, name: &str) -> Result<Self, StoreError> {
        let (reads, queue) = std::sync::mpsc::channel::<Read>();
        let queue = Arc::new(Mutex::new(queue));
        let mut threads = Vec::with_capacity(count);
        for i in 0..count {
            let conn = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX
                    | OpenFlags::SQLITE_OPEN_URI,
            )?;
            super::tuning::tune(&conn)?;
            let queue = queue.clone();
            let thread = std::thread::Builder::new()
                .name(format!("sqlite-reader-{name}-{i}"))
                .spawn(move || serve(&conn, &queue))
                .map_err(StoreError::backend)?;
            threads.push(thread);
        }
        Ok(Self {
            reads: Some(reads),
            threads,
        })
    }

    pub(super) async fn read<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let read: Read = Box::new(move |conn| {
            let result = catch_unwind(AssertUnwindSafe(|| f(conn)))
                .unwrap_or_else(|_| Err(StoreError::corrupt("a database read panicked")));
            let _ = tx.send(result);
        });
        self.reads
            .as_ref()
            .ok_or_else(stopped)?
            .send(read)
            .map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())?
    }
}

/// Takes reads from the shared queue until it closes. The lock is held only while waiting for
/// the next read, never while running one.
fn serve(conn: &Connection, queue: &Mutex<Receiver<Read>>) {
    loop {
        let next = queue
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .recv();
        match next {
            Ok(read) => read(conn),
            Err(_) => return,
        }
    }
}

impl Drop for Readers {
    fn drop(&mut self) {
        drop(self.reads.take());
        let me = std::thread::current().id();
        for thread in self.threads.drain(..) {
            if thread.thread().id() != me {
                let _ = thread.join();
            }
        }
    }
}
