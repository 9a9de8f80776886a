//! What clients see: the domain's [`Payment`] written as `api_types::payments` (the seed's
//! payment document in camelCase, money as an exact JSON number plus its integer minor units),
//! and the answers built from it.

use api_types::payments::{
    DetailsView, GatewayResponseView, OrderPayments, PaymentView, ProcessOrder, ProcessResponse,
    RefundView, StatusResponse,
};
use uuid::Uuid;

use crate::domain::{OrderStatus, Payment, PaymentDetails, PaymentStatus};
use crate::idempotency::StoredResponse;

impl From<&Payment> for PaymentView {
    fn from(p: &Payment) -> Self {
        PaymentView {
            id: p.id,
            order_id: p.order_id,
            user_id: p.user_id,
            amount: p.amount.to_json(),
            amount_minor: p.amount.minor_units(),
            currency: p.amount.currency().to_string(),
            payment_method: p.method,
            status: p.status,
            gateway_response: p.gateway_response.as_ref().map(|g| GatewayResponseView {
                transaction_id: g.transaction_id.clone(),
                response_code: g.response_code.clone(),
                response_message: g.response_message.clone(),
            }),
            payment_details: match &p.details {
                PaymentDetails::Card { last4, brand } => DetailsView::Card {
                    card_last4: last4.clone(),
                    card_brand: *brand,
                },
                PaymentDetails::Paypal { email } => DetailsView::Paypal {
                    paypal_email: email.clone(),
                },
            },
            refund: p.refund.as_ref().map(|r| RefundView {
                transaction_id: r.transaction_id.clone(),
                reason: r.reason.clone(),
                order_cancel_reason: r.order_cancel_reason,
                refunded_at: r.refunded_at,
            }),
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// The answer to `POST /api/payment/process` (status 201): a decline is a business result, so it
/// is a 201 too, with the gateway's message.
pub fn processed(p: &Payment, order_status: Option<OrderStatus>) -> ProcessResponse {
    let message = match &p.gateway_response {
        Some(g) if p.status == PaymentStatus::Failed => g.response_message.clone(),
        _ => match p.status {
            PaymentStatus::Completed => {
                "Payment completed. Your tickets are being issued.".to_string()
            }
            PaymentStatus::Refunded => {
                "The order was no longer open, so the payment was refunded.".to_string()
            }
            other => format!("Payment {}.", other.as_str()),
        },
    };
    ProcessResponse {
        message,
        payment: PaymentView::from(p),
        order: ProcessOrder {
            id: p.order_id,
            status: order_status,
        },
    }
}

/// [`processed`] as sent and as stored with an `Idempotency-Key`, so a retry gets the same bytes.
pub fn receipt(p: &Payment, order_status: Option<OrderStatus>) -> StoredResponse {
    StoredResponse {
        status: 201,
        body: serde_json::to_string(&processed(p, order_status))
            .expect("an answer of plain fields serializes"),
    }
}

/// The answer to `GET /api/payment/status/:id`.
pub fn status(p: &Payment, order_status: Option<OrderStatus>) -> StatusResponse {
    StatusResponse {
        payment: PaymentView::from(p),
        order_status,
    }
}

/// The answer to `GET /api/payment/orders/:order_id`.
pub fn for_order(order_id: Uuid, status: OrderStatus, payments: &[Payment]) -> OrderPayments {
    OrderPayments {
        order_id,
        order_status: status,
        payments: payments.iter().map(PaymentView::from).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::GatewayResponse;
    use crate::testing::{new_payment, pending_order};

    /// A 25.50 card payment that the gateway answered with `message`, now `status`.
    fn payment(status: PaymentStatus, message: &str) -> Payment {
        Payment {
            status,
            gateway_response: Some(GatewayResponse {
                transaction_id: "txn_1".into(),
                response_code: "card_declined".into(),
                response_message: message.into(),
            }),
            ..new_payment(&pending_order(Uuid::nil(), 2550))
        }
    }

    #[test]
    fn a_decline_is_answered_with_the_gateways_message_and_an_approval_with_ours() {
        let declined = processed(&payment(PaymentStatus::Failed, "Card declined."), None);
        assert_eq!(declined.message, "Card declined.");
        let paid = processed(
            &payment(PaymentStatus::Completed, "ok"),
            Some(OrderStatus::Pending),
        );
        assert_eq!(
            paid.message,
            "Payment completed. Your tickets are being issued."
        );
    }

    #[test]
    fn the_stored_answer_is_a_201_with_the_seeds_fields_in_their_order() {
        let r = receipt(
            &payment(PaymentStatus::Completed, "ok"),
            Some(OrderStatus::Pending),
        );
        assert_eq!(r.status, 201);
        let json: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(json["payment"]["amount"], serde_json::json!(25.5));
        assert_eq!(json["payment"]["amountMinor"], 2550);
        assert_eq!(json["payment"]["paymentDetails"]["cardBrand"], "visa");
        assert_eq!(json["order"]["status"], "pending");
        assert!(json["payment"].get("refund").is_none());
        assert!(r.body.starts_with(r#"{"message":"#));
    }
}
