//! The order side of the saga: payment results in, order status changes out.
//!
//! - `payments.completed` and the order still pending: confirmed, seats sold, tickets issued,
//!   `orders.confirmed`. If the order is no longer pending (expired or cancelled meanwhile), the
//!   payment is only noted: the payment service refunds it when it sees the order cancelled.
//! - `payments.failed`: the attempt is recorded and the order stays pending for a retry; the
//!   configured number of failures cancels it (`payment_failed`) and releases its seats.
//! - `payments.refunded`: noted on the order.

use async_nats::jetstream::Message;
use contracts::payments::{PaymentCompleted, PaymentFailed, PaymentRefunded};
use contracts::subjects;
use platform::consumer::{self, HandleError, Outcome};

use crate::app::AppState;
use crate::order::PaymentAttempt;
use crate::store::{FailureResult, Transition};

pub async fn handle(state: &AppState, msg: &Message) -> Result<Outcome, HandleError> {
    let tp = consumer::traceparent(msg);
    let tp = tp.as_deref();
    match msg.subject.as_str() {
        subjects::PAYMENTS_COMPLETED => {
            let envelope = consumer::envelope::<PaymentCompleted>(msg)?;
            let p = envelope.data;
            let attempt = PaymentAttempt {
                payment_id: p.payment_id,
                status: "completed".into(),
                response_code: Some("approved".into()),
                response_message: Some(format!("Paid, transaction {}", p.transaction_id)),
                at: envelope.time,
            };
            match state
                .store
                .confirm(p.order_id, &attempt, envelope.id, tp)
                .await?
            {
                Transition::Applied(order) => {
                    state.outbox_wake.notify_one();
                    tracing::info!(order_id = %order.id, payment_id = %p.payment_id, "order confirmed");
                    Ok(Outcome::Applied)
                }
                Transition::NotPending(order) => {
                    tracing::warn!(order_id = %order.id, status = order.status.as_str(), payment_id = %p.payment_id,
                        "payment completed for an order that is no longer pending; the payment service refunds it");
                    Ok(Outcome::Ignored)
                }
                Transition::NotFound => {
                    tracing::warn!(order_id = %p.order_id, "payment completed for an unknown order");
                    Ok(Outcome::Ignored)
                }
                Transition::Duplicate => Ok(Outcome::Duplicate),
            }
        }
        subjects::PAYMENTS_FAILED => {
            let envelope = consumer::envelope::<PaymentFailed>(msg)?;
            let p = envelope.data;
            let attempt = PaymentAttempt {
                payment_id: p.payment_id,
                status: "failed".into(),
                response_code: Some(p.response_code),
                response_message: Some(p.response_message),
                at: envelope.time,
            };
            let max = state.config.max_failed_payments;
            match state
                .store
                .record_payment_failure(p.order_id, &attempt, max, envelope.id, tp)
                .await?
            {
                FailureResult::Recorded { failures } => {
                    tracing::info!(order_id = %p.order_id, failures, "payment declined, order stays pending");
                    Ok(Outcome::Applied)
                }
                FailureResult::Cancelled(order) => {
                    state.outbox_wake.notify_one();
                    tracing::info!(order_id = %order.id, "order cancelled after {max} declined payments");
                    Ok(Outcome::Applied)
                }
                FailureResult::NotPending(_) | FailureResult::NotFound => Ok(Outcome::Ignored),
                FailureResult::Duplicate => Ok(Outcome::Duplicate),
            }
        }
        subjects::PAYMENTS_REFUNDED => {
            let envelope = consumer::envelope::<PaymentRefunded>(msg)?;
            let p = envelope.data;
            let attempt = PaymentAttempt {
                payment_id: p.payment_id,
                status: "refunded".into(),
                response_code: Some("refunded".into()),
                response_message: Some(p.reason),
                at: envelope.time,
            };
            let first = state
                .store
                .record_payment_note(p.order_id, &attempt, envelope.id)
                .await?;
            Ok(if first {
                Outcome::Applied
            } else {
                Outcome::Duplicate
            })
        }
        _ => Ok(Outcome::Ignored),
    }
}
