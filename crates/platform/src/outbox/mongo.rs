//! The outbox as a collection of the service's own MongoDB database. Multi-document transactions
//! need a replica set (a single-node one is enough: `mongod --replSet rs0` + `rs.initiate()`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use mongodb::bson::{self, Binary, doc, spec::BinarySubtype};
use mongodb::options::IndexOptions;
use mongodb::{ClientSession, Collection, Database, IndexModel};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Backlog, OutboxMessage, OutboxStore};
use crate::store::StoreError;

/// The collection name in every service database.
pub const COLLECTION: &str = "outbox";

/// A document of the `outbox` collection; `_id` is the message id.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub subject: String,
    pub payload: Binary,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
    pub created_at: bson::DateTime,
    /// Absent until the stream acknowledged the message.
    #[serde(default)]
    pub published_at: Option<bson::DateTime>,
}

impl OutboxDoc {
    pub fn from_message(msg: &OutboxMessage) -> Self {
        Self {
            id: msg.id.to_string(),
            subject: msg.subject.clone(),
            payload: Binary {
                subtype: BinarySubtype::Generic,
                bytes: msg.payload.clone(),
            },
            traceparent: msg.traceparent.clone(),
            created_at: bson::DateTime::from_millis(msg.created_at.timestamp_millis()),
            published_at: None,
        }
    }

    pub fn into_message(self) -> Result<OutboxMessage, StoreError> {
        Ok(OutboxMessage {
            id: Uuid::parse_str(&self.id)
                .map_err(|_| StoreError::corrupt(format!("bad outbox id {:?}", self.id)))?,
            subject: self.subject,
            payload: self.payload.bytes,
            traceparent: self.traceparent,
            created_at: DateTime::from_timestamp_millis(self.created_at.timestamp_millis())
                .unwrap_or_default(),
        })
    }
}

/// Inserts `msg` inside the transaction running on `session`, next to the state change.
pub async fn insert_mongo(
    db: &Database,
    session: &mut ClientSession,
    msg: &OutboxMessage,
) -> Result<(), mongodb::error::Error> {
    db.collection::<OutboxDoc>(COLLECTION)
        .insert_one(OutboxDoc::from_message(msg))
        .session(session)
        .await?;
    Ok(())
}

/// [`OutboxStore`] over a service database.
#[derive(Clone)]
pub struct MongoOutbox {
    outbox: Collection<OutboxDoc>,
}

impl MongoOutbox {
    pub fn new(db: &Database) -> Self {
        Self {
            outbox: db.collection(COLLECTION),
        }
    }

    /// The index behind [`OutboxStore::pending`]; call once at start-up.
    pub async fn ensure_indexes(&self) -> Result<(), StoreError> {
        self.outbox
            .create_index(
                IndexModel::builder()
                    .keys(doc! {"publishedAt": 1, "createdAt": 1, "_id": 1})
                    .options(IndexOptions::builder().name("pending".to_string()).build())
                    .build(),
            )
            .await?;
        Ok(())
    }
}

#[async_trait]
impl OutboxStore for MongoOutbox {
    async fn pending(&self, limit: usize) -> Result<Vec<OutboxMessage>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // `null` matches both a missing field and an explicit null.
        let docs: Vec<OutboxDoc> = self
            .outbox
            .find(doc! {"publishedAt": null})
            .sort(doc! {"createdAt": 1, "_id": 1})
            .limit(limit)
            .await?
            .try_collect()
            .await?;
        docs.into_iter().map(OutboxDoc::into_message).collect()
    }

    async fn mark_published(&self, ids: &[Uuid]) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        self.outbox
            .update_many(
                doc! {"_id": {"$in": ids}, "publishedAt": null},
                doc! {"$set": {"publishedAt": bson::DateTime::now()}},
            )
            .await?;
        Ok(())
    }

    async fn purge_published(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let before = bson::DateTime::from_millis(before.timestamp_millis());
        let result = self
            .outbox
            .delete_many(doc! {"publishedAt": {"$ne": null, "$lt": before}})
            .await?;
        Ok(result.deleted_count)
    }

    async fn backlog(&self) -> Result<Backlog, StoreError> {
        let waiting = doc! {"publishedAt": null};
        let messages = self.outbox.count_documents(waiting.clone()).await?;
        let oldest = self
            .outbox
            .find_one(waiting)
            .sort(doc! {"createdAt": 1, "_id": 1})
            .await?;
        Ok(Backlog {
            messages,
            oldest: oldest.map(|d| crate::mongo::from_bson_time(d.created_at)),
        })
    }
}
