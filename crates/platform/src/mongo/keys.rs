//! Who stored an `Idempotency-Key` answer: the part every stored key document shares, whatever
//! the service keeps beside it (a request hash and its answer, a claim and its fingerprint).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The identity of a stored key, flattened into the service's key document: `_id` is
/// `<userId>:<key>` (a UUID has no colon, so the pair is unambiguous), and the user and the key
/// are kept apart too, for an operator reading the collection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyOwner {
    #[serde(rename = "_id")]
    pub id: String,
    pub user_id: String,
    pub key: String,
}

impl KeyOwner {
    pub fn new(user_id: Uuid, key: &str) -> Self {
        Self {
            id: Self::id(user_id, key),
            user_id: user_id.to_string(),
            key: key.to_string(),
        }
    }

    /// The `_id` of `user_id`'s key `key`, to find or update its document.
    pub fn id(user_id: Uuid, key: &str) -> String {
        format!("{user_id}:{key}")
    }
}

#[cfg(test)]
mod tests {
    use mongodb::bson::{self, doc};

    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct StoredKey {
        #[serde(flatten)]
        owner: KeyOwner,
        status: i32,
        #[serde(default)]
        answer: Option<String>,
        created_at: bson::DateTime,
    }

    #[test]
    fn a_key_document_keeps_its_owner_at_the_top_level_and_reads_back() {
        let user = Uuid::new_v4();
        let stored = StoredKey {
            owner: KeyOwner::new(user, "k-1"),
            status: 201,
            answer: None,
            created_at: bson::DateTime::from_millis(1_767_225_600_123),
        };
        let document = bson::to_document(&stored).unwrap();
        assert_eq!(document.get_str("_id").unwrap(), format!("{user}:k-1"));
        assert_eq!(document.get_str("userId").unwrap(), user.to_string());
        assert_eq!(document.get_str("key").unwrap(), "k-1");
        // The driver decodes what it reads from raw bytes.
        let read: StoredKey = bson::from_slice(&bson::to_vec(&document).unwrap()).unwrap();
        assert_eq!(read, stored);
        let older = doc! {
            "_id": KeyOwner::id(user, "k-2"), "userId": user.to_string(), "key": "k-2",
            "status": 409, "createdAt": bson::DateTime::from_millis(0),
        };
        let read: StoredKey = bson::from_slice(&bson::to_vec(&older).unwrap()).unwrap();
        assert_eq!(read.owner, KeyOwner::new(user, "k-2"));
        assert_eq!(read.answer, None);
    }
}
