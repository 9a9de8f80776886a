//! What the ticket service knows of the catalogue: learned from the event service the first time
//! an event is booked, then kept in sync from the `CATALOG` stream, with the event's check-in
//! staff (`catalog.events.staff_changed`, versioned apart from the event). A cancelled event is stored
//! as such and wakes the cancellation cascade ([`crate::cascade`]), which ends its orders.

use async_nats::jetstream::Message;
use contracts::catalog::{
    EventCancelled, EventDetails, EventPublished, EventStaffChanged, EventUpdated, SaleStart,
};
use contracts::subjects;
use platform::consumer::{self, HandleError, Outcome};
use platform::money::{Currency, Money};
use uuid::Uuid;

use crate::error::TicketError;
use crate::state::AppState;
use crate::store::{EventInfo, EventStatus, EventStock, TicketTypeInfo};

/// The event as stored locally, learning it from the catalogue on first sight.
pub async fn event_stock(state: &AppState, event_id: Uuid) -> Result<EventStock, TicketError> {
    if let Some(stock) = state.store.event_stock(event_id).await? {
        return Ok(stock);
    }
    learn(state, event_id).await?;
    state
        .store
        .event_stock(event_id)
        .await?
        .ok_or(TicketError::EventNotFound)
}

/// Stores the event as the catalogue has it now (unless a newer version is stored already).
pub async fn learn(state: &AppState, event_id: Uuid) -> Result<(), TicketError> {
    let info = state
        .events
        .fetch(event_id)
        .await?
        .ok_or(TicketError::EventNotFound)?;
    state.store.apply_event(&info).await?;
    Ok(())
}

fn info(event_id: Uuid, version: u64, details: EventDetails) -> EventInfo {
    let currency = details
        .ticket_types
        .first()
        .and_then(|t| Currency::parse(&t.price.currency).ok())
        .unwrap_or(Currency::USD);
    EventInfo {
        id: event_id,
        title: details.title,
        date_time: details.date_time,
        status: EventStatus::Published,
        version,
        currency,
        ticket_types: details
            .ticket_types
            .into_iter()
            .map(|t| TicketTypeInfo {
                name: t.name,
                price: Money::from_minor_units(t.price.minor_units, currency),
                quantity: t.quantity,
            })
            .collect(),
        organizer_id: Some(details.created_by),
        refund_policy: details.refund_policy,
        waitlist_enabled: details.waitlist_enabled,
    }
}

/// Stores a published or updated event; an older version than the stored one is a duplicate.
async fn apply(state: &AppState, event: EventInfo) -> Result<Outcome, HandleError> {
    Ok(if state.store.apply_event(&event).await? {
        Outcome::Applied
    } else {
        Outcome::Duplicate
    })
}

/// Keeps the event's `onSaleAt` and `queue` for the waiting room (in JetStream, by version).
async fn sale_start(
    state: &AppState,
    event_id: Uuid,
    version: u64,
    sale: SaleStart,
) -> Result<(), HandleError> {
    state
        .waiting_room
        .apply_settings(event_id, version, sale)
        .await
        .map_err(HandleError::transient)
}

/// Handles one catalogue fact. Applying an event is idempotent by version, and a cancellation's
/// orders are ended by the cascade from the stored state, so no processed-id bookkeeping is
/// needed.
pub async fn handle(state: &AppState, msg: &Message) -> Result<Outcome, HandleError> {
    match msg.subject.as_str() {
        subjects::CATALOG_EVENT_PUBLISHED => {
            let e = consumer::envelope::<EventPublished>(msg)?.data;
            sale_start(state, e.event_id, e.version, e.details.sale).await?;
            apply(state, info(e.event_id, e.version, e.details)).await
        }
        subjects::CATALOG_EVENT_UPDATED => {
            let e = consumer::envelope::<EventUpdated>(msg)?.data;
            sale_start(state, e.event_id, e.version, e.details.sale).await?;
            apply(state, info(e.event_id, e.version, e.details)).await
        }
        subjects::CATALOG_EVENT_CANCELLED => {
            let e = consumer::envelope::<EventCancelled>(msg)?.data;
            let known = state.store.event_stock(e.event_id).await?.map(|k| k.event);
            let cancelled = EventInfo {
                id: e.event_id,
                title: e.title,
                date_time: e.date_time,
                status: EventStatus::Cancelled,
                version: e.version,
                currency: known.as_ref().map_or(Currency::USD, |k| k.currency),
                ticket_types: Vec::new(),
                organizer_id: known.as_ref().and_then(|k| k.organizer_id),
                refund_policy: known.as_ref().map(|k| k.refund_policy).unwrap_or_default(),
                waitlist_enabled: known.is_none_or(|k| k.waitlist_enabled),
            };
            let outcome = apply(state, cancelled).await?;
            // Also on a redelivery: the cascade finds what is left, or nothing.
            state.cascade_wake.notify_one();
            tracing::info!(event_id = %e.event_id, "event cancelled; its orders are being ended");
            Ok(outcome)
        }
        subjects::CATALOG_EVENT_STAFF_CHANGED => {
            // Versioned on its own: applied only when newer, whether or not the event is known.
            let e = consumer::envelope::<EventStaffChanged>(msg)?.data;
            let applied = state
                .store
                .apply_staff(e.event_id, e.staff_version, &e.staff)
                .await?;
            Ok(if applied {
                Outcome::Applied
            } else {
                Outcome::Duplicate
            })
        }
        _ => Ok(Outcome::Ignored),
    }
}
