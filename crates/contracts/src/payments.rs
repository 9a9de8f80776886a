//! Payment results the payment service publishes on the `PAYMENTS` stream. Each is wrapped in an
//! [`Envelope`](crate::Envelope) whose `type` is the subject and whose `subject` is the order id,
//! so all facts about one order share it.
//!
//! | subject | data | when |
//! |---|---|---|
//! | `payments.completed` | [`PaymentCompleted`] | the gateway captured the money |
//! | `payments.failed` | [`PaymentFailed`] | the gateway declined; the buyer may retry while the hold lasts |
//! | `payments.refunded` | [`PaymentRefunded`] | money returned, e.g. the order had expired when the payment completed |

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::catalog::Price;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentCompleted {
    pub payment_id: Uuid,
    pub order_id: Uuid,
    pub user_id: Uuid,
    pub amount: Price,
    /// `credit_card`, `debit_card` or `paypal`.
    pub payment_method: String,
    pub transaction_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentFailed {
    pub payment_id: Uuid,
    pub order_id: Uuid,
    pub user_id: Uuid,
    pub amount: Price,
    pub payment_method: String,
    /// The gateway's code, e.g. `card_declined`.
    pub response_code: String,
    pub response_message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRefunded {
    pub payment_id: Uuid,
    pub order_id: Uuid,
    pub user_id: Uuid,
    pub amount: Price,
    /// Why: the order's cancel reason when its sale was cancelled for a refund
    /// (`event_cancelled`, `organizer_refund`, `buyer_refund`), else `order_not_pending` (the
    /// money came in for an order that could no longer be sold).
    pub reason: String,
}
