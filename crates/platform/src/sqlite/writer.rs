//! The one thread that writes a database. It owns the write connection and takes work from a
//! queue, so callers never block a runtime thread or wait on a lock, and SQLite never sees two
//! writers. Grouped writes that queued while the thread was busy share one transaction (group
//! commit: one `COMMIT`, one WAL sync, for all of them), each inside its own savepoint, so a
//! write that fails or is undone rolls back only its own changes, never its neighbours'. Every
//! caller is answered after the commit that made its changes durable.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, Sender, TryRecvError};
use std::thread::JoinHandle;

use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::store::StoreError;

/// At most this many grouped writes share one transaction, so the first caller of a long queue
/// is not kept waiting for all of it.
const MAX_GROUP: usize = 256;

/// How a grouped write ends: its changes kept (committed with its group) or undone. Either way
/// the value is its caller's answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Changes<R> {
    Keep(R),
    Undo(R),
}

/// What a grouped write leaves for after the commit: whether its savepoint is kept, and how to
/// answer its caller once the group's fate is known (`Err`: the commit failed).
struct Done {
    keep: bool,
    answer: Answer,
}

/// Answers a grouped write's caller, given how its group's commit went.
type Answer = Box<dyn FnOnce(Result<(), &str>) + Send>;

/// Runs inside its savepoint of the group's transaction; given the reason it cannot (no savepoint
/// could be opened), it only answers with that.
type Grouped = Box<dyn FnOnce(Result<&Connection, String>) -> Done + Send>;
/// Runs alone on the connection, outside any transaction; it may begin its own.
type Alone = Box<dyn FnOnce(&mut Connection) + Send>;

enum Job {
    Grouped(Grouped),
    Alone(Alone),
}

/// The writer thread's queue; dropping it lets the thread finish what is queued and close the
/// connection.
pub(super) struct Writer {
    jobs: Option<Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

fn panicked() -> StoreError {
    StoreError::corrupt("a database call panicked")
}

fn stopped() -> StoreError {
    StoreError::corrupt("the database writer has stopped")
}

impl Writer {
    pub(super) fn start(conn: Connection, name: &str) -> std::io::Result<Self> {
        let (jobs, queue) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name(format!("sqlite-writer-{name}"))
            .spawn(move || run(conn, queue))?;
        Ok(Self {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    fn send(&self, job: Job) -> Result<(), StoreError> {
        self.jobs
            .as_ref()
            .ok_or_else(stopped)?
            .send(job)
            .map_err(|_| stopped())
    }

    /// Runs `f` alone on the write connection.
    pub(super) async fn call<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<R, StoreError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.send(Job::Alone(Box::new(move |conn| {
            let result =
                catch_unwind(AssertUnwindSafe(|| f(conn))).unwrap_or_else(|_| Err(panicked()));
            let _ = tx.send(result);
        })))?;
        rx.await.map_err(|_| stopped())?
    }

    /// Runs `f` in its own savepoint of the next group commit; answers once the group committed.
    pub(super) async fn write<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<Changes<R>, StoreError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.send(Job::Grouped(Box::new(
            move |conn: Result<&Connection, String>| {
                let conn = match conn {
                    Ok(conn) => conn,
                    Err(why) => {
                        return Done {
                            keep: false,
                            answer: Box::new(move |_| {
                                let _ = tx.send(Err(StoreError::corrupt(why)));
                            }),
                        };
                    }
                };
                let (keep, result) = match catch_unwind(AssertUnwindSafe(|| f(conn))) {
                    Ok(Ok(Changes::Keep(value))) => (true, Ok(value)),
                    Ok(Ok(Changes::Undo(value))) => (false, Ok(value)),
                    Ok(Err(e)) => (false, Err(e)),
                    Err(_) => (false, Err(panicked())),
                };
                Done {
                    keep,
                    answer: Box::new(move |committed| {
                        let result = match committed {
                            Err(why) if keep => Err(StoreError::corrupt(format!(
                                "the group commit failed: {why}"
                            ))),
                            _ => result,
                        };
                        let _ = tx.send(result);
                    }),
                }
            },
        )))?;
        rx.await.map_err(|_| stopped())?
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take()
            && thread.thread().id() != std::thread::current().id()
        {
            // The connection is closed once this returns, as it was with a plain handle.
            let _ = thread.join();
        }
    }
}

fn run(mut conn: Connection, queue: Receiver<Job>) {
    let mut next = None;
    loop {
        let job = match next.take() {
            Some(job) => job,
            None => match queue.recv() {
                Ok(job) => job,
                Err(_) => return,
            },
        };
        next = match job {
            Job::Alone(f) => {
                f(&mut conn);
                None
            }
            Job::Grouped(first) => group(&conn, first, &queue),
        };
    }
}

fn exec(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// Runs `first` and the grouped writes queued behind it in one transaction, each in its own
/// savepoint, commits once, then answers each. Returns the job that ended the group early (one
/// that must run alone), if any.
fn group(conn: &Connection, first: Grouped, queue: &Receiver<Job>) -> Option<Job> {
    if let Err(e) = exec(conn, "BEGIN IMMEDIATE") {
        finish(vec![first(Err(e.to_string()))], Ok(()));
        return None;
    }
    let mut done: Vec<Done> = Vec::new();
    let mut job = Some(first);
    let mut after = None;
    while let Some(f) = job.take() {
        done.push(in_savepoint(conn, f));
        if conn.is_autocommit() {
            // The whole transaction was rolled back (disk full, I/O error): what the group kept
            // so far is gone, and its callers learn it; the rest start a new transaction.
            finish(
                std::mem::take(&mut done),
                Err("the transaction was rolled back"),
            );
            if let Err(e) = exec(conn, "BEGIN IMMEDIATE") {
                tracing::error!(error = %e, "cannot begin a write transaction");
                return None;
            }
        }
        if done.len() >= MAX_GROUP {
            break;
        }
        match queue.try_recv() {
            Ok(Job::Grouped(f)) => job = Some(f),
            Ok(alone) => after = Some(alone),
            Err(TryRecvError::Empty | TryRecvError::Disconnected) => {}
        }
    }
    let committed = exec(conn, "COMMIT").map_err(|e| e.to_string());
    if committed.is_err() && !conn.is_autocommit() {
        let _ = exec(conn, "ROLLBACK");
    }
    finish(done, committed.as_ref().map(|_| ()).map_err(String::as_str));
    after
}

/// Runs `f` between `SAVEPOINT` and `RELEASE`, rolling back to the savepoint first when its
/// changes are not kept. When the savepoint cannot be ended cleanly the whole transaction is
/// rolled back, which the group sees.
fn in_savepoint(conn: &Connection, f: Grouped) -> Done {
    if let Err(e) = exec(conn, "SAVEPOINT grouped_write") {
        return f(Err(e.to_string()));
    }
    let done = f(Ok(conn));
    let ended = if done.keep {
        exec(conn, "RELEASE grouped_write")
    } else {
        exec(conn, "ROLLBACK TO grouped_write").and_then(|()| exec(conn, "RELEASE grouped_write"))
    };
    if ended.is_err() && !conn.is_autocommit() {
        let _ = exec(conn, "ROLLBACK");
    }
    done
}

fn finish(done: Vec<Done>, committed: Result<(), &str>) {
    for d in done {
        (d.answer)(committed);
    }
}
