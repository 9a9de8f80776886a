//! The ids of the facts a consumer has applied, one document each (`_id` = the fact id), recorded
//! in the transaction of the fact's effect: a redelivered fact finds its id and changes nothing.

use chrono::{DateTime, Utc};
use mongodb::bson::{self, doc};
use mongodb::error::Error as MongoError;
use mongodb::{ClientSession, Collection};
use serde::{Deserialize, Serialize};

use super::{ServiceDb, to_bson_time};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProcessedDoc {
    #[serde(rename = "_id")]
    id: String,
    subject: String,
    processed_at: bson::DateTime,
}

/// A collection of processed fact ids. Cheap to clone.
#[derive(Clone)]
pub struct ProcessedFacts {
    collection: Collection<ProcessedDoc>,
}

impl ProcessedFacts {
    /// The collection `name` of the service's database.
    pub fn new(db: &ServiceDb, name: &str) -> Self {
        Self {
            collection: db.collection(name),
        }
    }

    /// Records the fact `id` (received on `subject` at `at`) inside the transaction running on
    /// `session`; false, with nothing written, when it was recorded before.
    pub async fn first_time(
        &self,
        session: &mut ClientSession,
        id: &str,
        subject: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, MongoError> {
        if self
            .collection
            .find_one(doc! {"_id": id})
            .session(&mut *session)
            .await?
            .is_some()
        {
            return Ok(false);
        }
        self.collection
            .insert_one(ProcessedDoc {
                id: id.to_string(),
                subject: subject.to_string(),
                processed_at: to_bson_time(at),
            })
            .session(&mut *session)
            .await?;
        Ok(true)
    }
}
