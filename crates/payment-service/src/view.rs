//! What clients see: the seed's payment document in camelCase, money as an exact JSON number plus
//! its integer minor units.

use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::domain::{OrderStatus, Payment, PaymentDetails};

/// What the (simulated) gateway answered.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GatewayResponseView<'a> {
    #[schema(example = "txn_0f3c2b7d9a8e4c1b")]
    pub transaction_id: &'a str,
    /// `approved`, or why it was declined: `card_declined`, `insufficient_funds`,
    /// `paypal_declined`, ...
    #[schema(example = "approved")]
    pub response_code: &'a str,
    #[schema(example = "Payment approved.")]
    pub response_message: &'a str,
}

/// What is kept of the instrument: never the full card number or the CVC.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum DetailsView<'a> {
    #[serde(rename_all = "camelCase")]
    Card {
        #[schema(example = "4242")]
        card_last4: &'a str,
        #[schema(value_type = crate::card::CardBrand)]
        card_brand: &'a str,
    },
    #[serde(rename_all = "camelCase")]
    Paypal {
        #[schema(format = "email")]
        paypal_email: &'a str,
    },
}

/// The refund of a completed payment whose order was no longer open.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefundView<'a> {
    pub transaction_id: &'a str,
    /// As published in `payments.refunded`, e.g. `order_not_pending`.
    #[schema(example = "order_not_pending")]
    pub reason: &'a str,
    /// Why the order was cancelled, when it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::openapi::CancelReason>)]
    pub order_cancel_reason: Option<&'static str>,
    pub refunded_at: chrono::DateTime<chrono::Utc>,
}

/// A payment as clients see it (the seed's document).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentView<'a> {
    pub id: uuid::Uuid,
    pub order_id: uuid::Uuid,
    pub user_id: uuid::Uuid,
    /// The exact amount as the shortest decimal number (`25.5`).
    #[schema(value_type = f64, example = 25.5)]
    pub amount: serde_json::Number,
    /// The same amount in minor units (cents).
    #[schema(example = 2550)]
    pub amount_minor: i64,
    #[schema(example = "USD")]
    pub currency: String,
    #[schema(value_type = crate::domain::PaymentMethod)]
    pub payment_method: &'static str,
    #[schema(value_type = crate::domain::PaymentStatus)]
    pub status: &'static str,
    /// `null` until the gateway has answered.
    #[schema(required = true)]
    pub gateway_response: Option<GatewayResponseView<'a>>,
    pub payment_details: DetailsView<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund: Option<RefundView<'a>>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl<'a> From<&'a Payment> for PaymentView<'a> {
    fn from(p: &'a Payment) -> Self {
        PaymentView {
            id: p.id,
            order_id: p.order_id,
            user_id: p.user_id,
            amount: p.amount.to_json(),
            amount_minor: p.amount.minor_units(),
            currency: p.amount.currency().to_string(),
            payment_method: p.method.as_str(),
            status: p.status.as_str(),
            gateway_response: p.gateway_response.as_ref().map(|g| GatewayResponseView {
                transaction_id: &g.transaction_id,
                response_code: &g.response_code,
                response_message: &g.response_message,
            }),
            payment_details: match &p.details {
                PaymentDetails::Card { last4, brand } => DetailsView::Card {
                    card_last4: last4,
                    card_brand: brand.as_str(),
                },
                PaymentDetails::Paypal { email } => DetailsView::Paypal {
                    paypal_email: email,
                },
            },
            refund: p.refund.as_ref().map(|r| RefundView {
                transaction_id: &r.transaction_id,
                reason: &r.reason,
                order_cancel_reason: r.order_cancel_reason.map(|c| c.as_str()),
                refunded_at: r.refunded_at,
            }),
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// The answer to `POST /api/payment/process` (status 201): a decline is a business result, so it
/// is a 201 too, with the gateway's message.
pub fn process_body(p: &Payment, order_status: Option<OrderStatus>) -> Value {
    let message = match &p.gateway_response {
        Some(g) if p.status == crate::domain::PaymentStatus::Failed => g.response_message.clone(),
        _ => match p.status {
            crate::domain::PaymentStatus::Completed => {
                "Payment completed. Your tickets are being issued.".to_string()
            }
            crate::domain::PaymentStatus::Refunded => {
                "The order was no longer open, so the payment was refunded.".to_string()
            }
            other => format!("Payment {}.", other.as_str()),
        },
    };
    json!({
        "message": message,
        "payment": PaymentView::from(p),
        "order": {
            "id": p.order_id,
            "status": order_status.map(OrderStatus::as_str),
        },
    })
}

/// The answer to `GET /api/payment/status/:id`.
pub fn status_body(p: &Payment, order_status: Option<OrderStatus>) -> Value {
    json!({
        "payment": PaymentView::from(p),
        "orderStatus": order_status.map(OrderStatus::as_str),
    })
}
