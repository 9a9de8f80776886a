//! The outbox as a table of the service's own SQLite database.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use uuid::Uuid;

use super::{Backlog, OutboxMessage, OutboxStore};
use crate::sqlite::{Cached, Changes, Sqlite};
use crate::store::StoreError;

/// The `outbox` table; include it as one of the service's migrations. `seq` keeps the order of
/// writes even when several share a millisecond; the partial index makes finding the unpublished
/// rows cheap however many published ones are kept.
pub const SQLITE_DDL: &str = r#"
CREATE TABLE outbox (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE,
    subject      TEXT NOT NULL,
    payload      BLOB NOT NULL,
    traceparent  TEXT,
    created_at   INTEGER NOT NULL,
    published_at INTEGER
);
CREATE INDEX outbox_unpublished ON outbox(seq) WHERE published_at IS NULL;
CREATE INDEX outbox_published_at ON outbox(published_at) WHERE published_at IS NOT NULL;
"#;

/// Writes `msg` through `conn`; pass the open `rusqlite::Transaction` of the state change (it
/// derefs to a `Connection`) so both commit or neither does.
pub fn insert_sqlite(conn: &Connection, msg: &OutboxMessage) -> rusqlite::Result<()> {
    conn.execute_cached(
        "INSERT INTO outbox (id, subject, payload, traceparent, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            msg.id.to_string(),
            msg.subject,
            msg.payload,
            msg.traceparent,
            msg.created_at.timestamp_millis()
        ],
    )?;
    Ok(())
}

/// [`OutboxStore`] over the service's database handle.
#[derive(Clone)]
pub struct SqliteOutbox {
    db: Sqlite,
}

impl SqliteOutbox {
    /// The database must have been migrated with [`SQLITE_DDL`].
    pub fn new(db: Sqlite) -> Self {
        Self { db }
    }
}

fn bad_uuid(e: uuid::Error) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
}

#[async_trait]
impl OutboxStore for SqliteOutbox {
    async fn pending(&self, limit: usize) -> Result<Vec<OutboxMessage>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // A read connection: it sees every commit answered before, and the writer stays free
        // for the bookings.
        self.db
            .read(move |c| {
                let mut stmt = c.prepare_cached(
                    "SELECT id, subject, payload, traceparent, created_at FROM outbox
                     WHERE published_at IS NULL ORDER BY seq LIMIT ?1",
                )?;
                let rows = stmt.query_map([limit], |r| {
                    let id: String = r.get(0)?;
                    Ok(OutboxMessage {
                        id: Uuid::parse_str(&id).map_err(bad_uuid)?,
                        subject: r.get(1)?,
                        payload: r.get(2)?,
                        traceparent: r.get(3)?,
                        created_at: DateTime::from_timestamp_millis(r.get(4)?).unwrap_or_default(),
                    })
                })?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .await
    }

    async fn mark_published(&self, ids: &[Uuid]) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        let now = Utc::now().timestamp_millis();
        // Grouped with whatever else the writer commits next, instead of a commit of its own.
        self.db
            .write(move |c| {
                let mut stmt = c.prepare_cached(
                    "UPDATE outbox SET published_at = ?2 WHERE id = ?1 AND published_at IS NULL",
                )?;
                for id in &ids {
                    stmt.execute(params![id, now])?;
                }
                Ok(Changes::Keep(()))
            })
            .await
    }

    async fn purge_published(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let before = before.timestamp_millis();
        self.db
            .call(move |c| {
                let n = c.execute(
                    "DELETE FROM outbox WHERE published_at IS NOT NULL AND published_at < ?1",
                    [before],
                )?;
                Ok(n as u64)
            })
            .await
    }

    async fn backlog(&self) -> Result<Backlog, StoreError> {
        self.db
            .read(|c| {
                // Both read the partial index of unpublished rows, whose first row is the oldest.
                let (messages, oldest): (i64, Option<i64>) = c.query_row(
                    "SELECT COUNT(*), MIN(created_at) FROM outbox WHERE published_at IS NULL",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?;
                Ok(Backlog {
                    messages: messages.max(0) as u64,
                    oldest: oldest.and_then(DateTime::from_timestamp_millis),
                })
            })
            .await
    }
}
