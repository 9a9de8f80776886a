//! The waiting room of an on-sale (`onSaleAt`, `queue {enabled, admitPerMinute}` from the
//! catalogue): joining, a visitor's place and pass, and the check booking makes while an
//! event's queue is on. The rules are in [`line`]; the state is in JetStream ([`bucket`]), and
//! every replica follows the bucket into an in-memory index of the lines ([`WaitingRoom::follow`]),
//! so places are the same whichever replica answers.

pub mod bucket;
pub mod line;
pub mod refusal;
mod steps;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use api_types::queue::{QueueStatus, SaleStart};
use async_nats::jetstream;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use ticket_code::pass::{PassClaim, PassKey};
use tokio::sync::watch;
use uuid::Uuid;

use crate::error::TicketError;
use bucket::{Bucket, BucketError, Stored, StoredEntry};
use line::Line;
pub use refusal::Refusal;

/// The header `POST /api/tickets/book` reads the pass from.
pub const PASS_HEADER: &str = "queue-pass";

/// How often the waiting rooms of sales that are over are purged ([`WaitingRoom::purge_over`]).
pub const PURGE_EVERY: Duration = Duration::from_secs(60);
/// At most this many events are purged a run (three stream purges each).
pub const PURGE_BATCH: usize = 50;

impl From<BucketError> for TicketError {
    fn from(e: BucketError) -> Self {
        tracing::warn!(error = %e, "waiting room unavailable");
        TicketError::QueueUnavailable
    }
}

/// What a replica knows from following the bucket.
#[derive(Default)]
struct Index {
    lines: HashMap<Uuid, Line>,
    /// Every event's settings, so a booking needs no broker unless the event has a queue.
    settings: HashMap<Uuid, SaleStart>,
}

#[derive(Clone)]
pub struct WaitingRoom {
    bucket: Bucket,
    index: Arc<Mutex<Index>>,
    /// The newest bucket revision this replica has applied to `lines`.
    seen: Arc<watch::Sender<u64>>,
    key: Arc<PassKey>,
    pass_lifetime: chrono::Duration,
}

impl WaitingRoom {
    pub async fn open(js: &jetstream::Context, pass_lifetime: Duration) -> anyhow::Result<Self> {
        let bucket = Bucket::open(js).await?;
        let key = PassKey::from_secret(bucket.pass_secret().await?);
        Ok(Self {
            bucket,
            index: Arc::default(),
            seen: Arc::new(watch::channel(0).0),
            key: Arc::new(key),
            pass_lifetime: chrono::Duration::from_std(pass_lifetime)
                .unwrap_or(chrono::Duration::minutes(10)),
        })
    }

    /// Follows the bucket from its first entry, forever: the index every answer reads.
    pub async fn follow(self) {
        loop {
            let from = *self.seen.borrow() + 1;
            // The newest revision before the watch starts. Purged events leave gaps, possibly at
            // the end, so the last message delivered may be older than this: once the watch has
            // delivered everything pending, the index has every write up to here.
            let Ok(stored) = self.bucket.last_revision().await else {
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            };
            let mut watch = match self.bucket.watch_from(from).await {
                Ok(w) => w,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot follow the waiting room, retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            while let Some(item) = watch.next().await {
                let Ok(item) = item else { break };
                let mut index = self.index.lock().expect("waiting room index poisoned");
                match Stored::parse(&item.key, &item.value) {
                    Stored::Entry {
                        event_id,
                        user_id,
                        entry,
                    } => {
                        let arrival = match entry.draw {
                            Some(draw) => line::Arrival::Early { draw },
                            None => line::Arrival::Late,
                        };
                        index
                            .lines
                            .entry(event_id)
                            .or_default()
                            .add(user_id, arrival);
                    }
                    Stored::Settings { event_id, sale } => {
                        index.settings.insert(event_id, sale);
                    }
                    Stored::Other => {}
                }
                drop(index);
                let seen = if item.delta == 0 {
                    item.revision.max(stored)
                } else {
                    item.revision
                };
                self.seen.send_replace(seen);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Every event this replica's index knows: with a line, settings or both.
    fn indexed_events(&self) -> Vec<Uuid> {
        let index = self.index.lock().expect("waiting room index poisoned");
        let mut events: Vec<Uuid> = index.lines.keys().copied().collect();
        events.extend(
            index
                .settings
                .keys()
                .filter(|e| !index.lines.contains_key(e)),
        );
        events
    }

    /// Drops an event whose keys were purged from this replica's index.
    fn forget(&self, event_id: Uuid) {
        let mut index = self.index.lock().expect("waiting room index poisoned");
        index.lines.remove(&event_id);
        index.settings.remove(&event_id);
    }

    /// Waits until this replica's index has every write stored so far.
    async fn sync(&self) -> Result<(), TicketError> {
        let last = self.bucket.last_revision().await?;
        let mut seen = self.seen.subscribe();
        tokio::time::timeout(bucket::SYNC_TIMEOUT, seen.wait_for(|s| *s >= last))
            .await
            .map_err(|_| TicketError::QueueUnavailable)?
            .map_err(|_| TicketError::QueueUnavailable)?;
        Ok(())
    }

    /// Keeps the catalogue's newest settings of an event (from its facts).
    pub async fn apply_settings(
        &self,
        event_id: Uuid,
        version: u64,
        sale: SaleStart,
    ) -> Result<(), BucketError> {
        self.bucket.apply_settings(event_id, version, sale).await
    }
}

/// A visitor's entry, known to be in this replica's index.
pub struct Place {
    room: WaitingRoom,
    event_id: Uuid,
    user_id: Uuid,
    entry: StoredEntry,
}

impl Place {
    /// Whether the event still has its queue (as this replica last learned).
    pub fn queue_open(&self) -> bool {
        self.settings().is_some()
    }

    fn settings(&self) -> Option<(DateTime<Utc>, u32)> {
        let index = self.room.index.lock().expect("waiting room index poisoned");
        index.settings.get(&self.event_id)?.queued()
    }

    /// The status at this moment, from memory.
    pub fn now(&self) -> QueueStatus {
        let (room, event_id, user_id, entry) =
            (&self.room, self.event_id, self.user_id, &self.entry);
        // Settings are in the index once the bucket has them, which `follow_place` waited for.
        let (on_sale_at, per_minute) = self.settings().unwrap_or((Utc::now(), 1));
        let now = platform::time::now();
        let position = room
            .index
            .lock()
            .expect("waiting room index poisoned")
            .lines
            .get_mut(&event_id)
            .and_then(|l| l.position(user_id, on_sale_at, now));
        let admitted_so_far = line::admitted_so_far(on_sale_at, per_minute, now);
        let admitted = position.is_some_and(|p| p <= admitted_so_far);
        let pass_expires_at = now + room.pass_lifetime;
        let pass = admitted.then(|| {
            room.key.sign(&PassClaim {
                event_id,
                user_id,
                pass_id: entry.pass_id,
                expires_at: pass_expires_at.timestamp(),
            })
        });
        QueueStatus {
            position,
            estimated_wait_secs: position.map(|p| line::wait_secs(on_sale_at, per_minute, p, now)),
            admitted,
            pass_expires_at: pass.as_ref().map(|_| trunc_secs(pass_expires_at)),
            pass,
            on_sale_at,
            admitted_so_far,
            joined_at: entry.joined_at,
        }
    }
}

fn trunc_secs(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t)
}

/// The `Queue-Pass` header, when sent.
pub struct QueuePass(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for QueuePass {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(QueuePass(
            parts
                .headers
                .get(PASS_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        ))
    }
}
