//! The waiting room's state in a JetStream key-value bucket, `WAITING_ROOM` (defined in
//! `nats/buckets/KV_WAITING_ROOM.json`), so it survives a restart and every replica of the ticket
//! service shares it. Keys:
//!
//! | key | value |
//! |---|---|
//! | `entry.<eventId>.<userId>` | a visitor's entry ([`StoredEntry`]), written once (`create`) |
//! | `settings.<eventId>` | the event's `onSaleAt` and `queue` with the catalogue version they came with |
//! | `used.<eventId>.<passId>` | a pass that booked (`create`, so two replicas cannot both accept it) |
//! | `pass-key` | the 32 secret bytes every replica signs and checks passes with |
//!
//! Every key of an event starts with a prefix naming it, so once its sale is over the event's
//! keys go with one stream purge per prefix ([`Bucket::purge_event`]): the messages themselves
//! are removed, with no purge markers left behind, so a replica that starts later has nothing
//! of that event to replay. (Passes used before the event was in their key, `used.<passId>`,
//! are still honoured: see [`Bucket::use_pass`].)
//!
//! This module only loads and stores; the rules are in [`super::line`].

use std::time::Duration;

use async_nats::jetstream::{self, kv};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use api_types::queue::SaleStart;

const PASS_KEY: &str = "pass-key";

/// Anything the broker failed with; the routes answer 503 `queue_unavailable`.
#[derive(Debug, thiserror::Error)]
#[error("waiting room bucket: {0}")]
pub struct BucketError(String);

fn failed(e: impl std::fmt::Display) -> BucketError {
    BucketError(e.to_string())
}

/// A visitor's entry as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredEntry {
    /// The random draw of an early arrival; absent for a late one.
    pub draw: Option<u64>,
    pub joined_at: DateTime<Utc>,
    /// The id of this visitor's pass: one booking per entry.
    pub pass_id: Uuid,
}

/// An event's sale settings with the catalogue version they came with.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredSettings {
    version: u64,
    #[serde(flatten)]
    sale: SaleStart,
}

/// What a stored key and value say, as the index needs them.
pub enum Stored {
    Entry {
        event_id: Uuid,
        user_id: Uuid,
        entry: StoredEntry,
    },
    Settings {
        event_id: Uuid,
        sale: SaleStart,
    },
    Other,
}

impl Stored {
    pub fn parse(key: &str, value: &[u8]) -> Stored {
        let mut parts = key.split('.');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some("entry"), Some(e), Some(u), None) => {
                match (e.parse(), u.parse(), serde_json::from_slice(value)) {
                    (Ok(event_id), Ok(user_id), Ok(entry)) => Stored::Entry {
                        event_id,
                        user_id,
                        entry,
                    },
                    _ => Stored::Other,
                }
            }
            (Some("settings"), Some(e), None, None) => {
                match (e.parse(), serde_json::from_slice::<StoredSettings>(value)) {
                    (Ok(event_id), Ok(s)) => Stored::Settings {
                        event_id,
                        sale: s.sale,
                    },
                    _ => Stored::Other,
                }
            }
            _ => Stored::Other,
        }
    }
}

fn entry_key(event_id: Uuid, user_id: Uuid) -> String {
    format!("entry.{event_id}.{user_id}")
}

fn settings_key(event_id: Uuid) -> String {
    format!("settings.{event_id}")
}

fn used_key(event_id: Uuid, pass_id: Uuid) -> String {
    format!("used.{event_id}.{pass_id}")
}

/// Where a pass that booked was recorded before the event was part of the key.
fn legacy_used_key(pass_id: Uuid) -> String {
    format!("used.{pass_id}")
}

/// The keys of one event, as filters on the bucket's subjects (the event's entries, its used
/// passes, its settings).
fn event_subjects(event_id: Uuid) -> [String; 3] {
    [
        format!("entry.{event_id}.>"),
        format!("used.{event_id}.>"),
        settings_key(event_id),
    ]
}

#[derive(Clone)]
pub struct Bucket {
    kv: kv::Store,
}

impl Bucket {
    /// Creates or updates the bucket from `nats/buckets/KV_WAITING_ROOM.json` (every replica,
    /// every start) and opens it.
    pub async fn open(js: &jetstream::Context) -> anyhow::Result<Self> {
        let kv =
            platform::nats::ensure_bucket(js, contracts::jetstream::WAITING_ROOM_BUCKET).await?;
        Ok(Self { kv })
    }

    /// The shared pass secret: drawn by whichever replica starts first, read by the others.
    pub async fn pass_secret(&self) -> anyhow::Result<[u8; 32]> {
        let mut fresh = [0u8; 32];
        rand::rng().fill_bytes(&mut fresh);
        match self
            .kv
            .create(PASS_KEY, Bytes::copy_from_slice(&fresh))
            .await
        {
            Ok(_) => return Ok(fresh),
            Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => {}
            Err(e) => return Err(e.into()),
        }
        let stored = self
            .kv
            .get(PASS_KEY)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the pass key vanished"))?;
        stored
            .as_ref()
            .try_into()
            .map_err(|_| anyhow::anyhow!("the stored pass key is not 32 bytes"))
    }

    /// Stores the entry unless the visitor already has one; returns the stored one either way.
    pub async fn join(
        &self,
        event_id: Uuid,
        user_id: Uuid,
        entry: StoredEntry,
    ) -> Result<StoredEntry, BucketError> {
        let key = entry_key(event_id, user_id);
        let json = serde_json::to_vec(&entry).map_err(failed)?;
        match self.kv.create(&key, json.into()).await {
            Ok(_) => Ok(entry),
            Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => self
                .entry(event_id, user_id)
                .await?
                .ok_or_else(|| BucketError(format!("{key} exists but cannot be read"))),
            Err(e) => Err(failed(e)),
        }
    }

    pub async fn entry(
        &self,
        event_id: Uuid,
        user_id: Uuid,
    ) -> Result<Option<StoredEntry>, BucketError> {
        match self
            .kv
            .get(entry_key(event_id, user_id))
            .await
            .map_err(failed)?
        {
            Some(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(failed),
            None => Ok(None),
        }
    }

    pub async fn settings(&self, event_id: Uuid) -> Result<Option<SaleStart>, BucketError> {
        match self.kv.get(settings_key(event_id)).await.map_err(failed)? {
            Some(bytes) => serde_json::from_slice::<StoredSettings>(&bytes)
                .map(|s| Some(s.sale))
                .map_err(failed),
            None => Ok(None),
        }
    }

    /// Stores an event's settings unless a newer version is stored (compare-and-set on the
    /// revision, so concurrent writers never let an older version win).
    pub async fn apply_settings(
        &self,
        event_id: Uuid,
        version: u64,
        sale: SaleStart,
    ) -> Result<(), BucketError> {
        let key = settings_key(event_id);
        let json: Bytes = serde_json::to_vec(&StoredSettings { version, sale })
            .map_err(failed)?
            .into();
        loop {
            let written = match self.kv.entry(&key).await.map_err(failed)? {
                Some(stored) if stored.operation == kv::Operation::Put => {
                    let stored_version = serde_json::from_slice::<StoredSettings>(&stored.value)
                        .map_or(0, |s| s.version);
                    if stored_version >= version {
                        return Ok(());
                    }
                    self.kv
                        .update(&key, json.clone(), stored.revision)
                        .await
                        .is_ok()
                }
                _ => self.kv.create(&key, json.clone()).await.is_ok(),
            };
            if written {
                return Ok(());
            }
        }
    }

    /// Records that a pass of the event booked; `false` when it already had (also when it was
    /// recorded under the key of before, `used.<passId>`).
    pub async fn use_pass(&self, event_id: Uuid, pass_id: Uuid) -> Result<bool, BucketError> {
        let at = Bytes::from(Utc::now().to_rfc3339());
        match self.kv.create(used_key(event_id, pass_id), at).await {
            Ok(_) => {}
            Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => return Ok(false),
            Err(e) => return Err(failed(e)),
        }
        let used_before = self
            .kv
            .get(legacy_used_key(pass_id))
            .await
            .map_err(failed)?
            .is_some();
        Ok(!used_before)
    }

    /// Gives a pass back after its booking failed, so it can try again.
    pub async fn release_pass(&self, event_id: Uuid, pass_id: Uuid) -> Result<(), BucketError> {
        self.kv
            .purge(used_key(event_id, pass_id))
            .await
            .map_err(failed)
    }

    /// Removes every key of the event (entries, used passes, settings) from the bucket's
    /// stream, history and all; returns how many messages went. Purging an event with nothing
    /// left changes nothing, so replicas may race on it.
    pub async fn purge_event(&self, event_id: Uuid) -> Result<u64, BucketError> {
        let mut purged = 0;
        for keys in event_subjects(event_id) {
            let subjects = format!("{}{keys}", self.kv.prefix);
            let done = self
                .kv
                .stream
                .purge()
                .filter(subjects)
                .await
                .map_err(failed)?;
            purged += done.purged;
        }
        Ok(purged)
    }

    /// The revision of the newest write to the bucket.
    pub async fn last_revision(&self) -> Result<u64, BucketError> {
        let status = self.kv.status().await.map_err(failed)?;
        Ok(status.info.state.last_sequence)
    }

    /// Every stored entry from `from_revision` on, in the order they were stored, then each new
    /// one as it is written.
    pub async fn watch_from(&self, from_revision: u64) -> Result<kv::Watch, BucketError> {
        self.kv
            .watch_all_from_revision(from_revision.max(1))
            .await
            .map_err(failed)
    }
}

/// How long a reader waits for its replica to have followed the bucket up to a write.
pub const SYNC_TIMEOUT: Duration = Duration::from_secs(3);
