//! Orders and their life cycle: `pending -> confirmed | cancelled`, nothing else. Every
//! transition is conditional on the order still being pending, in the store, so racing triggers
//! (payment, expiry, cancel) apply exactly once.

use chrono::{DateTime, Utc};
use contracts::orders::CancelReason;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OrderStatus {
    Pending,
    Confirmed,
    Cancelled,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::Confirmed => "confirmed",
            OrderStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => OrderStatus::Pending,
            "confirmed" => OrderStatus::Confirmed,
            "cancelled" => OrderStatus::Cancelled,
            _ => return None,
        })
    }
}

/// One ticket type of an order. Amounts in minor units of the order's currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderLine {
    pub ticket_type: String,
    pub quantity: u32,
    pub unit_price: i64,
    pub subtotal: i64,
}

/// Who the tickets are for (defaults to the signed-in user).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerInfo {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    #[serde(default)]
    #[schema(required = true)]
    pub phone: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub id: Uuid,
    pub user_id: Uuid,
    pub event_id: Uuid,
    /// Snapshot at booking time, for order lists.
    pub event_title: String,
    pub event_date_time: DateTime<Utc>,
    pub booking_reference: String,
    pub status: OrderStatus,
    pub cancel_reason: Option<CancelReason>,
    pub lines: Vec<OrderLine>,
    pub total_amount: i64,
    pub currency: String,
    pub customer: CustomerInfo,
    /// The completed payment that confirmed the order.
    pub payment_id: Option<Uuid>,
    pub failed_payments: u32,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Order {
    pub fn seat_count(&self) -> u32 {
        self.lines.iter().map(|l| l.quantity).sum()
    }
}

/// A payment result as recorded on the order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentAttempt {
    pub payment_id: Uuid,
    /// `completed`, `failed` or `refunded`.
    #[schema(example = "failed")]
    pub status: String,
    #[schema(required = true, example = "card_declined")]
    pub response_code: Option<String>,
    #[schema(required = true)]
    pub response_message: Option<String>,
    pub at: DateTime<Utc>,
}

/// One e-ticket: one seat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IssuedTicket {
    pub code: String,
    pub ticket_type: String,
}

/// An order with everything that hangs off it.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderDetails {
    pub order: Order,
    pub attempts: Vec<PaymentAttempt>,
    pub tickets: Vec<IssuedTicket>,
}

/// Issues one ticket per seat of the order.
pub fn issue_tickets(order: &Order) -> Vec<IssuedTicket> {
    order
        .lines
        .iter()
        .flat_map(|l| {
            (0..l.quantity).map(|_| IssuedTicket {
                code: crate::codes::ticket_code(),
                ticket_type: l.ticket_type.clone(),
            })
        })
        .collect()
}
