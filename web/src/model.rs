//! What only the app sends, beside the shared API shapes of `api_types`: the event form's body
//! (the form's own typed text, sent for the event service to validate) and the form's limits.

use api_types::events::RefundPolicy;
use api_types::queue::QueueSettings;
use serde::Serialize;

/// The longest refund window the event form offers, in hours before the start (a year).
pub const MAX_REFUND_HOURS: u32 = 24 * 365;

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
    /// RFC 3339, or empty: on sale at once (in an edit, empty removes the opening moment).
    pub on_sale_at: String,
    pub queue: QueueSettings,
    pub waitlist_enabled: bool,
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

/// The most visitors a waiting room admits per minute.
pub const MAX_ADMIT_PER_MINUTE: u32 = 100_000;

/// The per-order ticket limit of the ticket service (`MAX_TICKETS_PER_ORDER`).
pub const MAX_PER_ORDER: u32 = 10;
