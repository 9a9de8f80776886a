//! Catalogue facts the event service publishes on the `CATALOG` stream, each wrapped in an
//! [`Envelope`](crate::Envelope) whose `type` is the subject and whose `subject` is the event id:
//!
//! | subject | data | when |
//! |---|---|---|
//! | `catalog.events.published` | [`EventPublished`] | an event became bookable (created as published, or a draft published) |
//! | `catalog.events.updated` | [`EventUpdated`] | a published event changed; carries the whole new state |
//! | `catalog.events.cancelled` | [`EventCancelled`] | a published event was cancelled (final); its orders are cancelled and the paid ones refunded |
//! | `catalog.events.staff_changed` | [`EventStaffChanged`] | the organizer named or removed check-in staff; carries the whole list |
//!
//! `version` grows by one with every change of an event, so a consumer can ignore a fact older
//! than what it already applied. Drafts never appear on the stream, except for their staff: the
//! staff list has its own `staffVersion`, so the ticket service knows who may scan whether it
//! learned the event from a fact or from the catalogue's HTTP answer.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An exact amount: `minorUnits` is authoritative (cents for USD); `decimal` is the same amount
/// written out for people (`"25.50"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Price {
    pub minor_units: i64,
    pub decimal: String,
    /// ISO 4217 code, e.g. `USD`.
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TicketTypeInfo {
    /// Unique within the event (case-insensitively); the key bookings refer to.
    pub name: String,
    pub price: Price,
    /// Seats of this type in total (sold, held and free).
    pub quantity: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VenueInfo {
    pub name: String,
    pub city: String,
    pub capacity: u32,
}

/// What a bookable event looks like to the other services.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventDetails {
    pub title: String,
    pub category: String,
    pub venue: VenueInfo,
    pub date_time: DateTime<Utc>,
    /// Minutes.
    pub duration: u32,
    pub ticket_types: Vec<TicketTypeInfo>,
    /// The organizer's user id.
    pub created_by: Uuid,
    /// Whether buyers may cancel paid orders for a refund, and until when. Facts published
    /// before the policy existed read as refunds not offered.
    #[serde(default)]
    pub refund_policy: RefundPolicy,
    /// `onSaleAt` and `queue` (the waiting room); absent from older facts: on sale at once.
    #[serde(flatten)]
    pub sale: SaleStart,
    /// Whether sold-out types take waitlist entries and freed seats are offered to them; absent
    /// from facts published before the switch existed: on.
    #[serde(default = "api_types::waitlist::on_by_default")]
    pub waitlist_enabled: bool,
}

pub use api_types::events::RefundPolicy;
pub use api_types::queue::SaleStart;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventPublished {
    pub event_id: Uuid,
    pub version: u64,
    #[serde(flatten)]
    pub details: EventDetails,
}

/// After publication ticket types are only ever added or increased, never removed or reduced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventUpdated {
    pub event_id: Uuid,
    pub version: u64,
    #[serde(flatten)]
    pub details: EventDetails,
}

/// Every pending order of a cancelled event is cancelled and every paid one cancelled and
/// refunded (`event_cancelled`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventCancelled {
    pub event_id: Uuid,
    pub version: u64,
    pub title: String,
    pub date_time: DateTime<Utc>,
    pub cancelled_at: DateTime<Utc>,
}

/// The event's check-in staff changed. Carries the whole list (lower-cased emails), so the
/// newest fact alone says who may scan; `staffVersion` grows by one with every change of the
/// list and is independent of the event's `version`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventStaffChanged {
    pub event_id: Uuid,
    pub staff_version: u64,
    pub staff: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_published_fact_reads_as_flat_camel_case_json() {
        let fact = EventPublished {
            event_id: Uuid::nil(),
            version: 1,
            details: crate::asyncapi::examples::details(),
        };
        let v = serde_json::to_value(&fact).unwrap();
        assert_eq!(v["eventId"], Uuid::nil().to_string());
        assert_eq!(v["title"], "Jazz Night");
        assert_eq!(v["ticketTypes"][0]["price"]["minorUnits"], 2550);
        assert_eq!(v["ticketTypes"][0]["price"]["decimal"], "25.50");
        assert_eq!(v["venue"]["capacity"], 200);
        assert_eq!(v["refundPolicy"]["untilHoursBefore"], 48);
        let back: EventPublished = serde_json::from_value(v).unwrap();
        assert_eq!(back, fact);
    }

    #[test]
    fn a_fact_from_before_refund_policies_reads_as_refunds_not_offered() {
        let v = serde_json::json!({
            "eventId": Uuid::nil(), "version": 3, "title": "Jazz Night", "category": "Music",
            "venue": {"name": "Blue Room", "city": "Chicago", "capacity": 200},
            "dateTime": "2030-03-17T18:00:00Z", "duration": 120, "ticketTypes": [],
            "createdBy": Uuid::nil(),
        });
        let fact: EventUpdated = serde_json::from_value(v).unwrap();
        assert_eq!(fact.details.refund_policy, RefundPolicy::default());
        assert!(!fact.details.refund_policy.allowed);
    }
}
