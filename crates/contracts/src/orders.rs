//! Order life cycle facts the ticket service publishes on the `ORDERS` stream. Each is wrapped in
//! an [`Envelope`](crate::Envelope) whose `type` is the subject and whose `subject` is the order id.
//!
//! | subject | data | when |
//! |---|---|---|
//! | `orders.created` | [`OrderCreated`] | seats are held for a pending order |
//! | `orders.confirmed` | [`OrderConfirmed`] | a completed payment turned the hold into sold seats and tickets |
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
