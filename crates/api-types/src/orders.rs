//! Orders and seats as the ticket service shows them: the answers of `/api/tickets/*`.
//!
//! The names are the schema names of the ticket service's OpenAPI document. Amounts are JSON
//! numbers written exactly (`25.5`) with their integer minor units beside them where clients
//! compute with them; the service builds the numbers, clients read the `*Minor` fields.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

// Where an order stands in its life cycle. A plain comment on purpose: a doc comment would become
// the schema's description, and the published ticket document has none for this enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum OrderStatus {
    Pending,
    Confirmed,
    Cancelled,
    Refunded,
}

crate::named_values!(OrderStatus {
    Pending => "pending",
    Confirmed => "confirmed",
    Cancelled => "cancelled",
    Refunded => "refunded",
});

/// Why an order ended: without a sale (`payment_failed`, `expired`, `user_cancelled`), or with its
/// payment refunded once it had been paid (`event_cancelled` ends pending and paid orders alike,
/// `organizer_refund`, `buyer_refund`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum CancelReason {
    PaymentFailed,
    Expired,
    UserCancelled,
    EventCancelled,
    OrganizerRefund,
    BuyerRefund,
}

crate::named_values!(CancelReason {
    PaymentFailed => "payment_failed",
    Expired => "expired",
    UserCancelled => "user_cancelled",
    EventCancelled => "event_cancelled",
    OrganizerRefund => "organizer_refund",
    BuyerRefund => "buyer_refund",
});

/// The `201` answer of a booking: the seed's fields first, then the whole order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BookingResponse {
    pub order_id: Uuid,
    #[cfg_attr(feature = "openapi", schema(example = "TK-7KQ2M9XD"))]
    pub booking_reference: String,
    #[cfg_attr(feature = "openapi", schema(value_type = f64, example = 51.0))]
    pub total_amount: serde_json::Number,
    #[cfg_attr(feature = "openapi", schema(example = 5100))]
    pub total_amount_minor: i64,
    #[cfg_attr(feature = "openapi", schema(example = "USD"))]
    pub currency: String,
    pub status: OrderStatus,
    /// Until when the seats are held; an unpaid order is cancelled (`expired`) then.
    pub expires_at: DateTime<Utc>,
    pub tickets: Vec<OrderLineView>,
    pub order: OrderView,
}

/// One ticket type of an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OrderLineView {
    pub ticket_type: LineTicketType,
    pub quantity: u32,
    #[cfg_attr(feature = "openapi", schema(value_type = f64, example = 51.0))]
    pub subtotal: serde_json::Number,
}

// A ticket type as named on an order line (no doc comment, as for `Stock`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LineTicketType {
    #[cfg_attr(feature = "openapi", schema(example = "General"))]
    pub name: String,
    /// Unit price at booking time.
    #[cfg_attr(feature = "openapi", schema(value_type = f64, example = 25.5))]
    pub price: serde_json::Number,
}

/// An order as in lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub cancel_reason: Option<CancelReason>,
    pub tickets: Vec<OrderLineView>,
    #[cfg_attr(feature = "openapi", schema(value_type = f64))]
    pub total_amount: serde_json::Number,
    pub total_amount_minor: i64,
    pub currency: String,
    pub customer_info: CustomerInfo,
    /// The completed payment that confirmed the order.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub payment_id: Option<Uuid>,
    /// Declined payment attempts so far.
    pub failed_payments: u32,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When its payment confirmed it; kept once it is cancelled or refunded.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub paid_at: Option<DateTime<Utc>>,
    /// When it was cancelled.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Set once the payment of an order cancelled after it was paid came back (status
    /// `refunded`).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub refund: Option<OrderRefund>,
}

/// The refund of a paid order, once its payment was refunded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OrderRefund {
    #[cfg_attr(feature = "openapi", schema(example = 5100))]
    pub amount_minor: i64,
    pub refunded_at: DateTime<Utc>,
    /// The order's cancel reason: `event_cancelled`, `organizer_refund` or `buyer_refund`.
    pub reason: CancelReason,
}

impl OrderView {
    /// Seats over all lines.
    pub fn seat_count(&self) -> u32 {
        self.tickets.iter().map(|l| l.quantity).sum()
    }
}

/// The event as it was when the order was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OrderEvent {
    pub id: Uuid,
    pub title: String,
    pub date_time: DateTime<Utc>,
}

/// Who the tickets are for (defaults to the signed-in user).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CustomerInfo {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub phone: Option<String>,
}

impl CustomerInfo {
    /// First and last name, as the back office shows the buyer.
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
            .trim()
            .to_string()
    }

    /// The buyer the test fixtures of every crate book for: Ada Lovelace, without a phone.
    #[cfg(feature = "testing")]
    pub fn sample() -> Self {
        CustomerInfo {
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
            email: "ada@example.com".into(),
            phone: None,
        }
    }
}

/// A payment result as recorded on the order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PaymentAttempt {
    pub payment_id: Uuid,
    /// `completed`, `failed` or `refunded`.
    #[cfg_attr(feature = "openapi", schema(example = "failed"))]
    pub status: String,
    #[cfg_attr(
        feature = "openapi",
        schema(required = true, example = "card_declined")
    )]
    pub response_code: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub response_message: Option<String>,
    pub at: DateTime<Utc>,
}

/// One e-ticket: one seat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct IssuedTicket {
    pub code: String,
    pub ticket_type: String,
    /// The order was cancelled after it was paid: the ticket no longer admits anyone.
    #[serde(default)]
    pub void: bool,
    /// What the ticket's QR code carries: the code, event and ticket type signed with the
    /// event's key (see the `ticket-code` crate), so scanners can check it offline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_code: Option<String>,
}

/// An order with its payment attempts and e-tickets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrdersResponse {
    pub orders: Vec<OrderView>,
    pub total: u64,
}

/// `{"order": ...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderResponse {
    pub order: OrderDetailsView,
}

/// Seats per ticket type of an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Availability {
    pub event_id: Uuid,
    /// The event's status in the catalogue: `published` or `cancelled`.
    #[cfg_attr(feature = "openapi", schema(example = "published"))]
    pub status: String,
    pub currency: String,
    pub ticket_types: Vec<Stock>,
}

impl Availability {
    /// The seats of one ticket type; names match regardless of ASCII case, as in bookings.
    pub fn of(&self, ticket_type: &str) -> Option<&Stock> {
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

// Seats of one ticket type. (No doc comment: it would become a schema description that the
// published document does not have.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Stock {
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = f64, example = 25.5))]
    pub price: serde_json::Number,
    pub capacity: u32,
    /// Seats of confirmed orders.
    pub sold: u32,
    /// Seats of pending orders.
    pub held: u32,
    /// `capacity - sold - held`.
    pub available: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(text: &str) -> serde_json::Number {
        text.parse().unwrap()
    }

    fn order() -> OrderView {
        let at: DateTime<Utc> = "2030-05-01T19:30:00Z".parse().unwrap();
        let id = Uuid::now_v7();
        OrderView {
            id,
            order_id: id,
            user_id: Uuid::now_v7(),
            event_id: Uuid::now_v7(),
            event: OrderEvent {
                id: Uuid::now_v7(),
                title: "Jazz night".into(),
                date_time: at,
            },
            booking_reference: "TK-7KQ2M9XD".into(),
            status: OrderStatus::Pending,
            cancel_reason: None,
            tickets: vec![OrderLineView {
                ticket_type: LineTicketType {
                    name: "General".into(),
                    price: number("25.5"),
                },
                quantity: 2,
                subtotal: number("51"),
            }],
            total_amount: number("51"),
            total_amount_minor: 5100,
            currency: "USD".into(),
            customer_info: CustomerInfo {
                phone: Some("+44 20 7946 0000".into()),
                ..customer()
            },
            payment_id: None,
            failed_payments: 0,
            expires_at: at,
            created_at: at,
            updated_at: at,
            paid_at: None,
            cancelled_at: None,
            refund: None,
        }
    }

    #[test]
    fn an_order_with_its_attempts_and_tickets_is_one_flat_object_that_reads_back_the_same() {
        let details = OrderDetailsView {
            order: order(),
            payment_attempts: Vec::new(),
            issued_tickets: vec![IssuedTicket {
                code: "TCK-1".into(),
                ticket_type: "General".into(),
                void: false,
                signed_code: None,
            }],
        };
        let json = serde_json::to_value(&details).unwrap();
        assert_eq!(json["bookingReference"], "TK-7KQ2M9XD");
        assert_eq!(json["issuedTickets"][0]["ticketType"], "General");
        assert_eq!(json["cancelReason"], serde_json::Value::Null);
        assert_eq!(json["customerInfo"]["phone"], "+44 20 7946 0000");
        let back: OrderDetailsView = serde_json::from_value(json).unwrap();
        assert_eq!(back, details);
    }

    #[test]
    fn a_refunded_order_writes_its_times_and_refund_and_an_unpaid_one_nulls() {
        let unpaid = serde_json::to_value(order()).unwrap();
        for field in ["paidAt", "cancelledAt", "refund"] {
            assert_eq!(unpaid[field], serde_json::Value::Null, "{field}");
        }
        let at: DateTime<Utc> = "2030-05-02T10:00:00Z".parse().unwrap();
        let refunded = OrderView {
            status: OrderStatus::Refunded,
            cancel_reason: Some(CancelReason::OrganizerRefund),
            paid_at: Some(at),
            cancelled_at: Some(at),
            refund: Some(OrderRefund {
                amount_minor: 5100,
                refunded_at: at,
                reason: CancelReason::OrganizerRefund,
            }),
            ..order()
        };
        let json = serde_json::to_value(&refunded).unwrap();
        assert_eq!(json["paidAt"], "2030-05-02T10:00:00Z");
        assert_eq!(
            json["refund"],
            serde_json::json!({"amountMinor": 5100, "refundedAt": "2030-05-02T10:00:00Z", "reason": "organizer_refund"})
        );
        assert_eq!(serde_json::from_value::<OrderView>(json).unwrap(), refunded);
    }

    #[test]
    fn a_ticket_without_a_void_field_reads_as_valid() {
        let t: IssuedTicket =
            serde_json::from_str(r#"{"code":"TCK-1","ticketType":"General"}"#).unwrap();
        assert!(!t.void);
    }

    #[test]
    fn amounts_are_written_as_the_shortest_exact_number() {
        let json = serde_json::to_string(&order().tickets[0]).unwrap();
        assert_eq!(
            json,
            r#"{"ticketType":{"name":"General","price":25.5},"quantity":2,"subtotal":51}"#
        );
    }

    /// A customer as a client that leaves the phone out sends it.
    fn customer() -> CustomerInfo {
        serde_json::from_str(
            r#"{"firstName":"Grace","lastName":"Hopper","email":"grace@example.org"}"#,
        )
        .unwrap()
    }

    #[test]
    fn a_customer_without_a_phone_field_reads_as_no_phone() {
        assert_eq!(customer().phone, None);
    }

    #[test]
    fn the_seats_of_an_order_are_the_sum_of_its_lines() {
        let mut o = order();
        o.tickets.push(OrderLineView {
            quantity: 3,
            ..o.tickets[0].clone()
        });
        assert_eq!(o.seat_count(), 5);
    }

    fn stock(name: &str, capacity: u32, sold: u32, held: u32) -> Stock {
        Stock {
            name: name.into(),
            price: number("10"),
            capacity,
            sold,
            held,
            available: capacity - sold - held,
        }
    }

    #[test]
    fn availability_finds_a_ticket_type_in_any_case_and_totals_its_seats() {
        let a = Availability {
            event_id: Uuid::now_v7(),
            status: "published".into(),
            currency: "EUR".into(),
            ticket_types: vec![stock("General", 50, 10, 5), stock("VIP", 10, 2, 0)],
        };
        assert_eq!(a.of("vip").map(|s| s.sold), Some(2));
        assert_eq!(a.of("General").map(|s| s.available), Some(35));
        assert!(a.of("Balcony").is_none());
        assert_eq!(a.total_available(), 43);
        assert_eq!(a.total_capacity(), 60);
    }
}
