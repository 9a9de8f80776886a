//! The JSON of the auth, event and payment services as the app reads it (the ticket service's
//! answers are `api_types::orders` and `api_types::back_office`). Money is read from the exact
//! `*Minor` fields (integer cents), never computed from the float `price`.

use api_types::events::RefundPolicy;
use api_types::orders::{OrderDetailsView, OrderRefund};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    #[serde(default)]
    pub role: String,
}

impl User {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct UserBody {
    pub user: User,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Venue {
    pub name: String,
    pub address: String,
    pub city: String,
    pub capacity: u32,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketType {
    pub name: String,
    pub price: serde_json::Number,
    pub price_minor: i64,
    pub quantity: u32,
    #[serde(default)]
    pub description: String,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Organizer {
    pub name: String,
    pub email: String,
    #[serde(default)]
    pub phone: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub category: String,
    pub venue: Venue,
    pub date_time: String,
    pub duration: u32,
    #[serde(default)]
    pub ends_at: String,
    pub ticket_types: Vec<TicketType>,
    pub currency: String,
    pub organizer: Organizer,
    pub status: String,
    #[serde(default)]
    pub created_by: String,
    #[serde(default)]
    pub version: u64,
    /// Absent from events of before refund policies: refunds not offered.
    #[serde(default)]
    pub refund_policy: RefundPolicy,
}

impl Event {
    /// When refunds close (`None` when not offered, or when the start time does not read).
    pub fn refund_deadline(&self) -> Option<DateTime<Utc>> {
        let starts = self.date_time.parse::<DateTime<Utc>>().ok()?;
        self.refund_policy.deadline(starts)
    }

    /// The cheapest ticket type's price in minor units.
    pub fn lowest_price(&self) -> Option<i64> {
        self.ticket_types.iter().map(|t| t.price_minor).min()
    }
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct EventBody {
    pub event: Event,
}

/// The longest refund window the event form offers, in hours before the start (a year).
pub const MAX_REFUND_HOURS: u32 = 24 * 365;

/// The answer to cancelling an event: the event and how many paid orders are being refunded
/// (absent or null when the event service could not ask the ticket service).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelledEvent {
    pub event: Event,
    #[serde(default)]
    pub orders_to_refund: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventPage {
    pub events: Vec<Event>,
    pub total: u64,
    #[serde(default = "one")]
    pub page: u32,
    #[serde(default)]
    pub limit: u32,
    #[serde(default)]
    pub total_pages: u64,
}

fn one() -> u32 {
    1
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct EventList {
    pub events: Vec<Event>,
}

// ---- Issue 11: until `OrderView` carries `paidAt` and `refund` (see the marked block at the end
// of api_types::orders), the app reads them beside the order. The merge replaces `RefundedOrder`
// by `OrderDetailsView` and `RefundedOrderBody` by `OrderResponse`.

/// An order with its payment attempts and tickets, and when it was paid and refunded.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundedOrder {
    #[serde(flatten)]
    pub details: OrderDetailsView,
    #[serde(default)]
    pub paid_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub refund: Option<OrderRefund>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct RefundedOrderBody {
    pub order: RefundedOrder,
}
// ---- end of the issue 11 block

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayResponse {
    #[serde(default)]
    pub transaction_id: String,
    #[serde(default)]
    pub response_code: String,
    #[serde(default)]
    pub response_message: String,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    pub id: String,
    pub status: String,
    #[serde(default)]
    pub gateway_response: Option<GatewayResponse>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct PaymentResult {
    #[serde(default)]
    pub message: String,
    pub payment: Payment,
}

/// What the app sends to pay.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum PaymentDetails {
    #[serde(rename_all = "camelCase")]
    Card {
        card_number: String,
        expiry_month: u32,
        expiry_year: i32,
        cvc: String,
        cardholder_name: String,
    },
    Paypal {
        email: String,
    },
}

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

pub const CATEGORIES: [&str; 8] = [
    "Music",
    "Sports",
    "Theater",
    "Comedy",
    "Conference",
    "Workshop",
    "Festival",
    "Other",
];

/// The per-order ticket limit of the ticket service (`MAX_TICKETS_PER_ORDER`).
pub const MAX_PER_ORDER: u32 = 10;
