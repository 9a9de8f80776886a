//! The notification store port and its adapters: SQLite (default) and MongoDB (`MONGODB_URI`,
//! database `notification_db`).
//!
//! Exactly one mail per (fact, recipient) rests on three operations:
//! - [`record`](NotificationStore::record) writes a fact's projection changes, its mails (state
//!   `pending`, keyed by fact id and recipient) and the processed fact id in one transaction;
//!   a fact id seen before changes nothing.
//! - [`claim`](NotificationStore::claim) moves one mail `pending -> sending` (or takes over a
//!   `sending` claim older than the stale time: its sender died) in one conditional update, so
//!   two senders never both own a mail.
//! - [`mark_sent`](NotificationStore::mark_sent) after the SMTP server accepted the message; a
//!   `sent` mail is never claimed again.
//!
//! The record comes before the send, the `sent` mark after it: a crash between the two leaves a
//! `sending` claim that goes stale and is sent again, the only way a mail can go out twice (and
//! it carries the same `Message-ID`).

mod mongo;
mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use platform::StoreError;
use platform::config::StoreConfig;
use uuid::Uuid;

pub use mongo::MongoStore;
pub use sqlite::SqliteStore;

use crate::domain::{EventRecord, FactRecord, Mail, MailKey, OrderRecord, Recorded};

#[async_trait]
pub trait NotificationStore: Send + Sync + 'static {
    // -- the projection --
    async fn event(&self, id: Uuid) -> Result<Option<EventRecord>, StoreError>;
    async fn order(&self, id: Uuid) -> Result<Option<OrderRecord>, StoreError>;
    /// Every order of an event that was ever paid (the planner picks the holders among them).
    async fn paid_orders_of_event(&self, event_id: Uuid) -> Result<Vec<OrderRecord>, StoreError>;
    /// Pending orders whose hold ends after `from` and no later than `until`, soonest first.
    async fn holds_ending(
        &self,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<OrderRecord>, StoreError>;

    // -- facts and their mails --
    /// Applies a fact once (see the module comment); a newer stored event version wins.
    async fn record(&self, fact: &FactRecord) -> Result<Recorded, StoreError>;
    /// Mails not yet sent nor given up on (pending, or claimed), of one fact or (with `None`) of
    /// any fact recorded no later than `recorded_before`; oldest first, at most `limit`.
    async fn unsent(
        &self,
        fact_id: Option<&str>,
        recorded_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Mail>, StoreError>;
    /// `pending -> sending`, or a `sending` claimed before `stale_before` claimed anew at `now`;
    /// `false` when the mail is sent, failed, or freshly claimed by someone else.
    async fn claim(
        &self,
        key: &MailKey,
        now: DateTime<Utc>,
        stale_before: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// `sending -> sent`, with the subject it went out with.
    async fn mark_sent(
        &self,
        key: &MailKey,
        subject: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// `sending -> pending` after a failure worth retrying.
    async fn release(&self, key: &MailKey) -> Result<(), StoreError>;
    /// `sending -> failed`: the server refused it for good.
    async fn mark_failed(&self, key: &MailKey, reason: &str) -> Result<(), StoreError>;
    /// The mails sent to a user, newest first, at most `limit`.
    async fn sent_to(&self, user_id: Uuid, limit: u32) -> Result<Vec<Mail>, StoreError>;

    async fn ping(&self) -> Result<(), StoreError>;
}

/// Opens the store the configuration names.
pub async fn open(config: &StoreConfig) -> anyhow::Result<Arc<dyn NotificationStore>> {
    Ok(match config {
        StoreConfig::Sqlite { path } => Arc::new(SqliteStore::open(path)?),
        StoreConfig::Mongo { uri, database } => Arc::new(MongoStore::connect(uri, database).await?),
    })
}
