//! The transactional outbox: a service writes the events it wants to publish into its own
//! database, in the same transaction as the state change they describe, and a [`Relay`] publishes
//! them to JetStream until the server acknowledges them. No event is lost when the process dies
//! between its database write and its publish, and none is duplicated either: every message is
//! published with `Nats-Msg-Id` = its id, so the stream drops a re-send of an already stored one.

mod atomic;
mod mongo;
mod relay;
mod sqlite;
mod waves;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use contracts::Envelope;
use serde::Serialize;
use uuid::Uuid;

use crate::store::StoreError;

pub use mongo::{COLLECTION as MONGO_COLLECTION, MongoOutbox, OutboxDoc, insert_mongo};
pub use relay::{Relay, RelayError, RelayHandle};
pub use sqlite::{SQLITE_DDL, SqliteOutbox, insert_sqlite};

/// One event waiting to be published.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxMessage {
    /// The envelope id; published as `Nats-Msg-Id`.
    pub id: Uuid,
    pub subject: String,
    /// A serialized [`contracts::Envelope`].
    pub payload: Vec<u8>,
    /// W3C trace context of the request that caused the event.
    pub traceparent: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl OutboxMessage {
    /// The envelope, to be published on its `type` (the subject it names).
    pub fn from_envelope<T: Serialize>(envelope: &Envelope<T>) -> Result<Self, serde_json::Error> {
        Self::on_subject(&envelope.kind, envelope)
    }

    /// The envelope on another subject than its `type`, e.g. one with an id token appended.
    pub fn on_subject<T: Serialize>(
        subject: &str,
        envelope: &Envelope<T>,
    ) -> Result<Self, serde_json::Error> {
        Ok(Self {
            id: envelope.id,
            subject: subject.to_string(),
            payload: serde_json::to_vec(envelope)?,
            traceparent: None,
            // Milliseconds: what both stores keep, so a message reads back equal.
            created_at: DateTime::from_timestamp_millis(envelope.time.timestamp_millis())
                .unwrap_or(envelope.time),
        })
    }

    pub fn with_traceparent(mut self, traceparent: Option<String>) -> Self {
        self.traceparent = traceparent;
        self
    }
}

/// The relay's view of a service's outbox.
#[async_trait]
pub trait OutboxStore: Send + Sync + 'static {
    /// Up to `limit` unpublished messages, oldest first.
    async fn pending(&self, limit: usize) -> Result<Vec<OutboxMessage>, StoreError>;
    /// Records that the stream acknowledged these messages.
    async fn mark_published(&self, ids: &[Uuid]) -> Result<(), StoreError>;
    /// Deletes messages published before `before`; returns how many. Published rows are kept for
    /// a while so an operator can see what left the service and when.
    async fn purge_published(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;
    /// How many messages wait and since when: what an operator watches to see the relay keep up.
    async fn backlog(&self) -> Result<Backlog, StoreError>;
}

/// The unpublished part of an outbox.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backlog {
    pub messages: u64,
    /// When the oldest waiting message was written; `None` when none waits.
    pub oldest: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_takes_its_id_subject_and_time_from_the_envelope() {
        let envelope = Envelope::new(
            "catalog.events.published",
            "test",
            None,
            serde_json::json!({"a": 1}),
        );
        let msg = OutboxMessage::from_envelope(&envelope).unwrap();
        assert_eq!(msg.id, envelope.id);
        assert_eq!(msg.subject, "catalog.events.published");
        assert_eq!(
            msg.created_at.timestamp_millis(),
            envelope.time.timestamp_millis()
        );
        let back: Envelope<serde_json::Value> = serde_json::from_slice(&msg.payload).unwrap();
        assert_eq!(back, envelope);
        assert_eq!(msg.traceparent, None);
    }
}
