//! The catalogue facts other services hear about, as outbox messages.

use chrono::{DateTime, Utc};
use contracts::Envelope;
use contracts::catalog::{
    EventCancelled, EventDetails, EventPublished, EventStaffChanged, EventUpdated, TicketTypeInfo,
    VenueInfo,
};
use contracts::subjects::{
    CATALOG_EVENT_CANCELLED, CATALOG_EVENT_PUBLISHED, CATALOG_EVENT_STAFF_CHANGED,
    CATALOG_EVENT_UPDATED,
};
use platform::outbox::OutboxMessage;

use crate::domain::Event;
use crate::error::EventError;
use crate::staff::Roster;

/// The `source` of every envelope this service produces.
pub const SOURCE: &str = "event-service";

fn details(e: &Event) -> EventDetails {
    EventDetails {
        title: e.title.clone(),
        category: e.category.as_str().to_string(),
        venue: VenueInfo {
            name: e.venue.name.clone(),
            city: e.venue.city.clone(),
            capacity: e.venue.capacity,
        },
        date_time: e.date_time,
        duration: e.duration,
        ticket_types: e
            .ticket_types
            .iter()
            .map(|t| TicketTypeInfo {
                name: t.name.clone(),
                price: t.price.to_price(),
                quantity: t.quantity,
            })
            .collect(),
        created_by: e.created_by,
        refund_policy: e.refund_policy,
        sale: e.sale,
        waitlist_enabled: e.waitlist_enabled,
    }
}

fn message<T: serde::Serialize>(
    subject: &str,
    e: &Event,
    data: T,
    traceparent: &str,
) -> Result<OutboxMessage, EventError> {
    let envelope = Envelope::new(subject, SOURCE, Some(e.id.to_string()), data);
    Ok(OutboxMessage::from_envelope(&envelope)
        .map_err(EventError::internal)?
        .with_traceparent(Some(traceparent.to_string())))
}

pub fn published(e: &Event, traceparent: &str) -> Result<OutboxMessage, EventError> {
    let data = EventPublished {
        event_id: e.id,
        version: e.version,
        details: details(e),
    };
    message(CATALOG_EVENT_PUBLISHED, e, data, traceparent)
}

pub fn updated(e: &Event, traceparent: &str) -> Result<OutboxMessage, EventError> {
    let data = EventUpdated {
        event_id: e.id,
        version: e.version,
        details: details(e),
    };
    message(CATALOG_EVENT_UPDATED, e, data, traceparent)
}

pub fn cancelled(
    e: &Event,
    at: DateTime<Utc>,
    traceparent: &str,
) -> Result<OutboxMessage, EventError> {
    let data = EventCancelled {
        event_id: e.id,
        version: e.version,
        title: e.title.clone(),
        date_time: e.date_time,
        cancelled_at: at,
    };
    message(CATALOG_EVENT_CANCELLED, e, data, traceparent)
}

/// The event's check-in staff as they are now (drafts too: staff may be named before publishing).
pub fn staff_changed(
    e: &Event,
    roster: &Roster,
    traceparent: &str,
) -> Result<OutboxMessage, EventError> {
    let data = EventStaffChanged {
        event_id: e.id,
        staff_version: roster.version,
        staff: roster.emails(),
    };
    message(CATALOG_EVENT_STAFF_CHANGED, e, data, traceparent)
}
