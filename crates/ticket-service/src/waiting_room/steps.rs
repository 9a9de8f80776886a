//! The waiting room's steps that need the rest of the service (the catalogue, the event
//! client): gating a booking, joining, and a visitor's place. Kept apart from the room itself,
//! which the service's state holds.

use std::future::Future;

use api_types::queue::{QueueStatus, SaleStart};
use chrono::{DateTime, Utc};
use rand::Rng;
use uuid::Uuid;

use super::bucket::{BucketError, StoredEntry};
use super::{Place, Refusal, WaitingRoom, line};
use crate::error::TicketError;
use crate::state::AppState;

impl WaitingRoom {
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
        if !room.bucket.use_pass(event_id, claim.pass_id).await? {
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
            && let Err(e) = room.bucket.release_pass(event_id, claim.pass_id).await
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

    /// Purges the waiting room of events whose sale is over ([`line::sale_over`], as the
    /// catalogue's event says): their keys leave the bucket ([`super::bucket::Bucket::purge_event`])
    /// and this replica's index. At most [`super::PURGE_BATCH`] events a run, the rest at the
    /// next; every replica runs it (each forgets the events in its own index), and an event the
    /// catalogue cannot show now is looked at again next time. Returns how many events went.
    pub async fn purge_over(state: &AppState) -> Result<usize, BucketError> {
        let room = &state.waiting_room;
        let events = room.indexed_events();
        let now = platform::time::now();
        let mut purged = 0;
        for event_id in events {
            if purged == super::PURGE_BATCH {
                break;
            }
            let Ok(stock) = crate::catalog::event_stock(state, event_id).await else {
                continue;
            };
            if !line::sale_over(stock.event.status, stock.event.date_time, now) {
                continue;
            }
            room.bucket.purge_event(event_id).await?;
            room.forget(event_id);
            purged += 1;
        }
        if purged > 0 {
            tracing::info!(
                events = purged,
                "waiting rooms of sales that are over purged"
            );
        }
        Ok(purged)
    }

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
