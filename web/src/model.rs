//! The JSON the services answer, as the app reads it. Money is read from the exact `*Minor`
//! fields (integer cents), never computed from the float `price`.

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
}

impl Event {
    /// The cheapest ticket type's price in minor units.
    pub fn lowest_price(&self) -> Option<i64> {
        self.ticket_types.iter().map(|t| t.price_minor).min()
    }
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct EventBody {
    pub event: Event,
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

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StockLine {
    pub name: String,
    pub capacity: u32,
    pub sold: u32,
    pub held: u32,
    pub available: u32,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Availability {
    pub event_id: String,
    pub status: String,
    pub currency: String,
    pub ticket_types: Vec<StockLine>,
}

impl Availability {
    pub fn of(&self, ticket_type: &str) -> Option<&StockLine> {
        self.ticket_types
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(ticket_type))
    }

    pub fn total_available(&self) -> u32 {
        self.ticket_types.iter().map(|t| t.available).sum()
    }

    pub fn total_capacity(&self) -> u32 {
        self.ticket_types.iter().map(|t| t.capacity).sum()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct CustomerInfo {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineType {
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderLine {
    pub ticket_type: LineType,
    pub quantity: u32,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderEvent {
    pub id: String,
    pub title: String,
    pub date_time: String,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssuedTicket {
    pub code: String,
    pub ticket_type: String,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentAttempt {
    pub status: String,
    #[serde(default)]
    pub response_code: Option<String>,
    #[serde(default)]
    pub response_message: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub id: String,
    pub event_id: String,
    pub event: OrderEvent,
    pub booking_reference: String,
    pub status: String,
    #[serde(default)]
    pub cancel_reason: Option<String>,
    pub tickets: Vec<OrderLine>,
    pub total_amount_minor: i64,
    pub currency: String,
    pub customer_info: CustomerInfo,
    #[serde(default)]
    pub failed_payments: u32,
    pub expires_at: String,
    pub created_at: String,
    #[serde(default)]
    pub payment_attempts: Vec<PaymentAttempt>,
    #[serde(default)]
    pub issued_tickets: Vec<IssuedTicket>,
}

impl Order {
    pub fn seat_count(&self) -> u32 {
        self.tickets.iter().map(|l| l.quantity).sum()
    }
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct OrderBody {
    pub order: Order,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct OrderList {
    pub orders: Vec<Order>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Booked {
    pub order_id: String,
    pub booking_reference: String,
}

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
