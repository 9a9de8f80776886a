//! What the app sends and reads beyond the shared API shapes of `api_types`: the event form's
//! body (the form's own typed text, sent for the event service to validate) and the form's
//! limits. Money is read from the exact `*Minor` fields (integer cents), never computed from the
//! float `price`.

use api_types::events::{EventView, RefundPolicy};
use serde::{Deserialize, Serialize};

/// The longest refund window the event form offers, in hours before the start (a year).
pub const MAX_REFUND_HOURS: u32 = 24 * 365;

// ---- Issue 11: until `EventView` carries `refundPolicy` (another change adds it, with the cancel
// answer `CancelledEventResponse`), the app reads the policy beside the event. The merge replaces
// `Event` by `EventView`, `EventBody` by `EventResponse` and `CancelledEvent` by
// `CancelledEventResponse`.

/// An event as one event's answer carries it, with its refund policy.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    #[serde(flatten)]
    pub view: EventView,
    /// Absent from events of before refund policies: refunds not offered.
    #[serde(default)]
    pub refund_policy: RefundPolicy,
}

impl std::ops::Deref for Event {
    type Target = EventView;

    fn deref(&self) -> &EventView {
        &self.view
    }
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct EventBody {
    pub event: Event,
}

/// The answer to cancelling an event: the event and how many paid orders are being refunded
/// (absent or null when the event service could not ask the ticket service).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelledEvent {
    pub event: Event,
    #[serde(default)]
    pub orders_to_refund: Option<u64>,
}
// ---- end of the issue 11 block

/// The event form as the event service reads it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventInput {
    pub title: String,
    pub description: String,
    pub category: String,
    pub venue: VenueInput,
    pub date_time: String,
    pub duration: i64,
    pub ticket_types: Vec<TicketTypeInput>,
    pub organizer: OrganizerInput,
    pub refund_policy: RefundPolicy,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VenueInput {
    pub name: String,
    pub address: String,
    pub city: String,
    pub capacity: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketTypeInput {
    pub name: String,
    /// The decimal text as typed, sent as a JSON number so the server parses it exactly.
    pub price: serde_json::Number,
    pub quantity: i64,
    pub description: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrganizerInput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub phone: String,
}

/// The per-order ticket limit of the ticket service (`MAX_TICKETS_PER_ORDER`).
pub const MAX_PER_ORDER: u32 = 10;
