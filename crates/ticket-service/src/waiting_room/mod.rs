//! The waiting room of an on-sale (`onSaleAt`, `queue {enabled, admitPerMinute}` from the
//! catalogue): joining, a visitor's place and pass, and the check booking makes while an
//! event's queue is on. The rules are in [`line`]; the state is in JetStream ([`bucket`]), and
//! every replica follows the bucket into an in-memory index of the lines ([`WaitingRoom::follow`]),
//! so places are the same whichever replica answers.

pub mod bucket;
pub mod line;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use api_types::queue::{QueueStatus, SaleStart};
use async_nats::jetstream;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use rand::Rng;
use ticket_code::pass::{PassClaim, PassKey, PassRefusal};
use tokio::sync::watch;
use uuid::Uuid;

use crate::error::TicketError;
use crate::state::AppState;
use bucket::{Bucket, BucketError, Stored, StoredEntry};
use line::Line;

/// The header `POST /api/tickets/book` reads the pass from.
pub const PASS_HEADER: &str = "queue-pass";

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
                self.seen.send_replace(item.revision);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
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

    /// Lets a booking through the waiting room: without a queue (and once on sale) at once;
    /// with one, only with a valid pass of the caller for this event that has not booked yet.
    /// A booking that fails gives its pass back; the retry of a booking that was made (same
    /// `Idempotency-Key`) gets its first answer again rather than a refused pass.
    pub async fn gate<T>(
        state: &AppState,
        event_id: Uuid,
        user_id: Uuid,
        pass: Option<&str>,
        idempotency_key: Option<&str>,
        booking: impl Future<Output = Result<T, TicketError>>,
    ) -> Result<T, TicketError> {
        let room = &state.waiting_room;
        // An event the catalogue does not know has no queue; booking says what else it lacks.
        let sale = room.settings(state, event_id).await?.unwrap_or_default();
        let now = platform::time::now();
        let Some(_) = sale.queued() else {
            if let Some(at) = sale.on_sale_at.filter(|at| now < *at) {
                return Err(TicketError::NotOnSaleYet(at));
            }
            return booking.await;
        };
        let text = pass.ok_or(TicketError::PassRefused(Refusal::Missing))?;
        let claim = room
            .key
            .verify(text, event_id, user_id, now.timestamp())
            .map_err(|r| TicketError::PassRefused(Refusal::Invalid(r)))?;
        if !room.bucket.use_pass(claim.pass_id).await? {
            let replay = match idempotency_key {
                Some(key) => state
                    .store
                    .idempotent_response(user_id, key)
                    .await?
                    .is_some(),
                None => false,
            };
            return if replay {
                booking.await
            } else {
                Err(TicketError::PassRefused(Refusal::Used))
            };
        }
        let booked = booking.await;
        if booked.is_err()
            && let Err(e) = room.bucket.release_pass(claim.pass_id).await
        {
            tracing::warn!(error = %e, "a pass whose booking failed stays used");
        }
        booked
    }

    /// The event's settings, learned from the catalogue when not yet known here; `None` for an
    /// event the catalogue does not show.
    async fn settings(
        &self,
        state: &AppState,
        event_id: Uuid,
    ) -> Result<Option<SaleStart>, TicketError> {
        let known = self
            .index
            .lock()
            .expect("waiting room index poisoned")
            .settings
            .get(&event_id)
            .copied();
        if let Some(sale) = known {
            return Ok(Some(sale));
        }
        if let Some(sale) = self.bucket.settings(event_id).await? {
            return Ok(Some(sale));
        }
        let Some((version, sale)) = state.events.fetch_sale_start(event_id).await? else {
            return Ok(None);
        };
        self.bucket.apply_settings(event_id, version, sale).await?;
        Ok(Some(sale))
    }

    /// Joins the caller to the event's queue (once: joining again changes nothing).
    pub async fn join(
        state: &AppState,
        event_id: Uuid,
        user_id: Uuid,
    ) -> Result<QueueStatus, TicketError> {
        let room = &state.waiting_room;
        let (on_sale_at, _) = room.queue_of(state, event_id).await?;
        // Only a bookable event has a queue to join.
        let stock = crate::catalog::event_stock(state, event_id).await?;
        if !stock.event.status.is_on_sale() {
            return Err(TicketError::EventNotFound);
        }
        let now = platform::time::now();
        let fresh = StoredEntry {
            draw: match line::arrival(now, on_sale_at, rand::rng().random()) {
                line::Arrival::Early { draw } => Some(draw),
                line::Arrival::Late => None,
            },
            joined_at: now,
            pass_id: Uuid::new_v4(),
        };
        room.bucket.join(event_id, user_id, fresh).await?;
        Self::status(state, event_id, user_id).await
    }

    /// The caller's place, wait and (once admitted) pass.
    pub async fn status(
        state: &AppState,
        event_id: Uuid,
        user_id: Uuid,
    ) -> Result<QueueStatus, TicketError> {
        Ok(Self::follow_place(state, event_id, user_id).await?.now())
    }

    /// The caller's entry, once this replica's index has it: its status can then be read again
    /// and again from memory ([`Place::now`]), as the live stream does every second.
    pub async fn follow_place(
        state: &AppState,
        event_id: Uuid,
        user_id: Uuid,
    ) -> Result<Place, TicketError> {
        let room = &state.waiting_room;
        room.queue_of(state, event_id).await?;
        let entry = room
            .bucket
            .entry(event_id, user_id)
            .await?
            .ok_or(TicketError::NotInQueue)?;
        room.sync().await?;
        Ok(Place {
            room: room.clone(),
            event_id,
            user_id,
            entry,
        })
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

impl WaitingRoom {
    /// The opening moment and rate of an event's queue; 409 `no_queue` when it has none.
    async fn queue_of(
        &self,
        state: &AppState,
        event_id: Uuid,
    ) -> Result<(DateTime<Utc>, u32), TicketError> {
        self.settings(state, event_id)
            .await?
            .ok_or(TicketError::EventNotFound)?
            .queued()
            .ok_or(TicketError::NoQueue)
    }
}

fn trunc_secs(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t)
}

/// Why booking refused a pass (403).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Missing,
    Invalid(PassRefusal),
    Used,
}

impl Refusal {
    pub fn code(self) -> &'static str {
        match self {
            Refusal::Missing => "queue_pass_required",
            Refusal::Invalid(_) => "queue_pass_invalid",
            Refusal::Used => "queue_pass_used",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Refusal::Missing => {
                "This on-sale has a waiting room: join its queue and book with the pass it gives you."
            }
            Refusal::Invalid(PassRefusal::Expired) => {
                "Your queue pass has expired; ask the queue for a fresh one."
            }
            Refusal::Invalid(_) => "This queue pass is not valid for you and this event.",
            Refusal::Used => "This queue pass has already been used for a booking.",
        }
    }
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
