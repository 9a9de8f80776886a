//! The payment results other services hear about, as outbox messages. Each envelope's `subject`
//! is the order id, so every fact about one order shares it.

use contracts::Envelope;
use contracts::catalog::Price;
use contracts::payments::{PaymentCompleted, PaymentFailed, PaymentRefunded};
use contracts::subjects::{PAYMENTS_COMPLETED, PAYMENTS_FAILED, PAYMENTS_REFUNDED};
use platform::StoreError;
use platform::outbox::OutboxMessage;

use crate::domain::{Payment, PaymentStatus, REFUND_REASON};

/// The `source` of every envelope this service produces.
pub const SOURCE: &str = "payment-service";

fn price(p: &Payment) -> Price {
    p.amount.to_price()
}

fn message<T: serde::Serialize>(
    subject: &str,
    p: &Payment,
    data: T,
    traceparent: &str,
) -> Result<OutboxMessage, StoreError> {
    let envelope = Envelope::new(subject, SOURCE, Some(p.order_id.to_string()), data);
    Ok(OutboxMessage::from_envelope(&envelope)
        .map_err(StoreError::backend)?
        .with_traceparent(Some(traceparent.to_string())))
}

/// `payments.completed` or `payments.failed` for a settled payment.
pub fn settled(p: &Payment, traceparent: &str) -> Result<OutboxMessage, StoreError> {
    let response = p
        .gateway_response
        .clone()
        .unwrap_or_else(|| crate::domain::GatewayResponse {
            transaction_id: String::new(),
            response_code: String::new(),
            response_message: String::new(),
        });
    match p.status {
        PaymentStatus::Completed | PaymentStatus::Refunded => message(
            PAYMENTS_COMPLETED,
            p,
            PaymentCompleted {
                payment_id: p.id,
                order_id: p.order_id,
                user_id: p.user_id,
                amount: price(p),
                payment_method: p.method.as_str().to_string(),
                transaction_id: response.transaction_id,
            },
            traceparent,
        ),
        _ => message(
            PAYMENTS_FAILED,
            p,
            PaymentFailed {
                payment_id: p.id,
                order_id: p.order_id,
                user_id: p.user_id,
                amount: price(p),
                payment_method: p.method.as_str().to_string(),
                response_code: response.response_code,
                response_message: response.response_message,
            },
            traceparent,
        ),
    }
}

/// `payments.refunded` for a refunded payment.
pub fn refunded(p: &Payment, traceparent: &str) -> Result<OutboxMessage, StoreError> {
    let reason = p
        .refund
        .as_ref()
        .map(|r| r.reason.clone())
        .unwrap_or_else(|| REFUND_REASON.to_string());
    message(
        PAYMENTS_REFUNDED,
        p,
        PaymentRefunded {
            payment_id: p.id,
            order_id: p.order_id,
            user_id: p.user_id,
            amount: price(p),
            reason,
        },
        traceparent,
    )
}
