//! The ticket service's OpenAPI 3.1 document, generated from the annotations on its route
//! handlers and served at `GET /api/tickets/openapi.json` (committed as
//! `docs/openapi/ticket.json`). The response types below document the JSON that `crate::view`
//! builds; they are never serialized.

use std::sync::LazyLock;

use axum::response::Response;
use chrono::{DateTime, Utc};
use platform::openapi::CookieAuth;
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use crate::order::{CustomerInfo, IssuedTicket, OrderStatus, PaymentAttempt};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Ticket service",
        version = env!("CARGO_PKG_VERSION"),
        description = "Inventory, booking, orders and e-tickets. Amounts are exact: a JSON number \
                       (`25.5`) with its integer minor units beside it. Every error answers with \
                       the shared `ErrorBody` shape."
    ),
    paths(
        crate::routes::book,
        crate::routes::my_orders,
        crate::routes::show_order,
        crate::routes::cancel_order,
        crate::routes::availability,
        crate::routes::availability_stream,
        serve,
        platform::openapi::health,
        platform::openapi::ready,
    ),
    components(schemas(platform::openapi::ErrorBody)),
    modifiers(&CookieAuth),
    tags(
        (name = "orders", description = "Booking and the buyer's orders."),
        (name = "availability", description = "Seats left per ticket type."),
        (name = "operations", description = "Health checks and this document."),
    )
)]
struct ApiDoc;

/// The service's OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

static DOCUMENT: LazyLock<String> =
    LazyLock::new(|| serde_json::to_string(&openapi()).expect("the document serializes"));

/// This OpenAPI document
#[utoipa::path(
    get,
    path = "/api/tickets/openapi.json",
    tag = "operations",
    responses((status = 200, description = "The service's OpenAPI 3.1 document.", body = Object))
)]
pub(crate) async fn serve() -> Response {
    platform::openapi::serve_json(&DOCUMENT)
}

/// Why an order ended without a sale.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CancelReason {
    PaymentFailed,
    Expired,
    UserCancelled,
    EventCancelled,
}

/// The `201` answer of a booking: the seed's fields first, then the whole order.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BookingResponse {
    pub order_id: Uuid,
    #[schema(example = "TK-7KQ2M9XD")]
    pub booking_reference: String,
    #[schema(value_type = f64, example = 51.0)]
    pub total_amount: serde_json::Number,
    #[schema(example = 5100)]
    pub total_amount_minor: i64,
    #[schema(example = "USD")]
    pub currency: String,
    pub status: OrderStatus,
    /// Until when the seats are held; an unpaid order is cancelled (`expired`) then.
    pub expires_at: DateTime<Utc>,
    pub tickets: Vec<OrderLineView>,
    pub order: OrderView,
}

/// One ticket type of an order.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderLineView {
    pub ticket_type: LineTicketType,
    pub quantity: u32,
    #[schema(value_type = f64, example = 51.0)]
    pub subtotal: serde_json::Number,
}

#[derive(Serialize, ToSchema)]
pub struct LineTicketType {
    #[schema(example = "General")]
    pub name: String,
    /// Unit price at booking time.
    #[schema(value_type = f64, example = 25.5)]
    pub price: serde_json::Number,
}

/// An order as in lists.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderView {
    pub id: Uuid,
    /// The same as `id` (the seed's name).
    pub order_id: Uuid,
    pub user_id: Uuid,
    pub event_id: Uuid,
    pub event: OrderEvent,
    pub booking_reference: String,
    pub status: OrderStatus,
    /// Set once the order is cancelled.
    #[schema(required = true)]
    pub cancel_reason: Option<CancelReason>,
    pub tickets: Vec<OrderLineView>,
    #[schema(value_type = f64)]
    pub total_amount: serde_json::Number,
    pub total_amount_minor: i64,
    pub currency: String,
    pub customer_info: CustomerInfo,
    /// The completed payment that confirmed the order.
    #[schema(required = true)]
    pub payment_id: Option<Uuid>,
    /// Declined payment attempts so far.
    pub failed_payments: u32,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The event as it was when the order was made.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderEvent {
    pub id: Uuid,
    pub title: String,
    pub date_time: DateTime<Utc>,
}

/// An order with its payment attempts and e-tickets.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderDetailsView {
    #[serde(flatten)]
    pub order: OrderView,
    /// Oldest first.
    pub payment_attempts: Vec<PaymentAttempt>,
    /// One per seat, once the order is confirmed.
    pub issued_tickets: Vec<IssuedTicket>,
}

/// `{"orders": [...], "total": n}`.
#[derive(Serialize, ToSchema)]
pub struct OrdersResponse {
    pub orders: Vec<OrderView>,
    pub total: u64,
}

/// `{"order": ...}`.
#[derive(Serialize, ToSchema)]
pub struct OrderResponse {
    pub order: OrderDetailsView,
}

/// Seats per ticket type of an event.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Availability {
    pub event_id: Uuid,
    /// The event's status in the catalogue: `published` or `cancelled`.
    #[schema(example = "published")]
    pub status: String,
    pub currency: String,
    pub ticket_types: Vec<Stock>,
}

#[derive(Serialize, ToSchema)]
pub struct Stock {
    pub name: String,
    #[schema(value_type = f64, example = 25.5)]
    pub price: serde_json::Number,
    pub capacity: u32,
    /// Seats of confirmed orders.
    pub sold: u32,
    /// Seats of pending orders.
    pub held: u32,
    /// `capacity - sold - held`.
    pub available: u32,
}
