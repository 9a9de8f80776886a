//! Order life cycle facts the ticket service publishes on the `ORDERS` stream. Each is wrapped in
//! an [`Envelope`](crate::Envelope) whose `type` is the subject and whose `subject` is the order id.
//!
//! | subject | data | when |
//! |---|---|---|
//! | `orders.created` | [`OrderCreated`] | seats are held for a pending order (with the buyer's contact details) |
//! | `orders.confirmed` | [`OrderConfirmed`] | a completed payment turned the hold into sold seats and tickets (their codes included) |
//! | `orders.cancelled` | [`OrderCancelled`] | the order ended without a sale; its held seats are back |

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::catalog::Price;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderLine {
    pub ticket_type: String,
    pub quantity: u32,
    pub unit_price: Price,
    pub subtotal: Price,
}

/// Who booked, as the order names them: where the notification service mails the order's news.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderCustomer {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
}

/// An e-ticket issued with a confirmation, as the buyer's ticket shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderTicket {
    pub ticket_type: String,
    /// The ticket's code, for people to read.
    pub code: String,
    /// What its QR code carries when the ticket is signed for offline check-in (see the ticket
    /// service's `signedCode`); without it the QR code carries `code`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_code: Option<String>,
}

impl OrderTicket {
    /// The text of the ticket's QR code.
    pub fn qr_payload(&self) -> &str {
        self.signed_code.as_deref().unwrap_or(&self.code)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderCreated {
    pub order_id: Uuid,
    pub booking_reference: String,
    pub user_id: Uuid,
    pub event_id: Uuid,
    pub lines: Vec<OrderLine>,
    pub total_amount: Price,
    /// The hold ends here; a payment after it is refused.
    pub expires_at: DateTime<Utc>,
    /// The buyer's contact details from the booking. Absent from facts published before it was
    /// added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<OrderCustomer>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderConfirmed {
    pub order_id: Uuid,
    pub booking_reference: String,
    pub user_id: Uuid,
    pub event_id: Uuid,
    /// The completed payment that confirmed it.
    pub payment_id: Uuid,
    pub total_amount: Price,
    pub ticket_count: u32,
    /// The e-tickets issued, one per seat. Empty in facts published before it was added.
    #[serde(default)]
    pub tickets: Vec<OrderTicket>,
}

pub use api_types::orders::CancelReason;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderCancelled {
    pub order_id: Uuid,
    pub booking_reference: String,
    pub user_id: Uuid,
    pub event_id: Uuid,
    pub reason: CancelReason,
}

impl OrderCreated {
    /// The cancellation of this order for `reason`, as `orders.cancelled` announces it.
    pub fn cancelled(&self, reason: CancelReason) -> OrderCancelled {
        OrderCancelled {
            order_id: self.order_id,
            booking_reference: self.booking_reference.clone(),
            user_id: self.user_id,
            event_id: self.event_id,
            reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_facts_from_before_customers_and_tickets_still_read() {
        let created: OrderCreated = serde_json::from_value(serde_json::json!({
            "orderId": Uuid::nil(), "bookingReference": "TK-1", "userId": Uuid::nil(),
            "eventId": Uuid::nil(), "lines": [],
            "totalAmount": {"minorUnits": 0, "decimal": "0.00", "currency": "USD"},
            "expiresAt": "2030-03-17T18:00:00Z",
        }))
        .unwrap();
        assert_eq!(created.customer, None);
        let confirmed: OrderConfirmed = serde_json::from_value(serde_json::json!({
            "orderId": Uuid::nil(), "bookingReference": "TK-1", "userId": Uuid::nil(),
            "eventId": Uuid::nil(), "paymentId": Uuid::nil(), "ticketCount": 2,
            "totalAmount": {"minorUnits": 0, "decimal": "0.00", "currency": "USD"},
        }))
        .unwrap();
        assert!(confirmed.tickets.is_empty());
    }
}
