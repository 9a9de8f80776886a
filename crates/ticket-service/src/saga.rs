//! The order side of the saga: payment results in, order status changes out. What each result
//! does to the order is decided in [`crate::lifecycle`]; this module turns the facts into
//! commands and reports the outcome.
//!
//! - `payments.completed`: confirms a pending order. If the order is no longer pending (expired
//!   or cancelled meanwhile), the payment is only noted: the payment service refunds it when it
//!   sees the order cancelled.
//! - `payments.failed`: counted; the configured number of failures cancels the order.
//! - `payments.refunded`: the refund of the payment that confirmed an order cancelled after it
//!   was paid makes the order `refunded`; any other refund (a payment that came in after its
//!   order had ended) is noted on the order.

use async_nats::jetstream::Message;
use contracts::payments::{PaymentCompleted, PaymentFailed, PaymentRefunded};
use contracts::subjects;
use platform::consumer::{self, HandleError, Outcome};
use platform::money::{Currency, Money};

use crate::lifecycle::{Command, Transition};
use crate::order::{AttemptStatus, PaymentAttempt};
use crate::state::AppState;

pub async fn handle(state: &AppState, msg: &Message) -> Result<Outcome, HandleError> {
    let tp = consumer::traceparent(msg);
    let tp = tp.as_deref();
    match msg.subject.as_str() {
        subjects::PAYMENTS_COMPLETED => {
            let envelope = consumer::envelope::<PaymentCompleted>(msg)?;
            let p = envelope.data;
            let attempt = PaymentAttempt {
                payment_id: p.payment_id,
                status: AttemptStatus::Completed,
                response_code: Some("approved".into()),
                response_message: Some(format!("Paid, transaction {}", p.transaction_id)),
                at: envelope.time,
            };
            let command = Command::Confirm(attempt);
            match state
                .store
                .apply(p.order_id, &command, Some(envelope.id), tp)
                .await?
            {
                Transition::Applied(order) => {
                    state.order_changed(&order);
                    tracing::info!(order_id = %order.id, payment_id = %p.payment_id, "order confirmed");
                    Ok(Outcome::Applied)
                }
                Transition::NotPending(order)
                | Transition::NotConfirmed(order)
                | Transition::Recorded(order) => {
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
            let max_failures = state.config.max_failed_payments;
            let command = Command::RecordFailure {
                attempt: PaymentAttempt {
                    payment_id: p.payment_id,
                    status: AttemptStatus::Failed,
                    response_code: Some(p.response_code),
                    response_message: Some(p.response_message),
                    at: envelope.time,
                },
                max_failures,
            };
            match state
                .store
                .apply(p.order_id, &command, Some(envelope.id), tp)
                .await?
            {
                Transition::Recorded(order) => {
                    tracing::info!(order_id = %order.id, failures = order.failed_payments,
                        "payment declined, order stays pending");
                    Ok(Outcome::Applied)
                }
                Transition::Applied(order) => {
                    state.order_changed(&order);
                    tracing::info!(order_id = %order.id, status = order.status.as_str(),
                        "order ended after {max_failures} declined payments");
                    Ok(Outcome::Applied)
                }
                Transition::NotPending(_) | Transition::NotConfirmed(_) | Transition::NotFound => {
                    Ok(Outcome::Ignored)
                }
                Transition::Duplicate => Ok(Outcome::Duplicate),
            }
        }
        subjects::PAYMENTS_REFUNDED => {
            let envelope = consumer::envelope::<PaymentRefunded>(msg)?;
            let p = envelope.data;
            let currency = Currency::parse(&p.amount.currency).map_err(|e| {
                HandleError::Poison(format!("refund in currency {:?}: {e}", p.amount.currency))
            })?;
            let command = Command::RecordRefund {
                attempt: PaymentAttempt {
                    payment_id: p.payment_id,
                    status: AttemptStatus::Refunded,
                    response_code: Some("refunded".into()),
                    response_message: Some(p.reason),
                    at: envelope.time,
                },
                amount: Money::from_minor_units(p.amount.minor_units, currency),
            };
            match state
                .store
                .apply(p.order_id, &command, Some(envelope.id), tp)
                .await?
            {
                Transition::Applied(order) => {
                    state.order_changed(&order);
                    tracing::info!(order_id = %order.id, payment_id = %p.payment_id, "order refunded");
                    Ok(Outcome::Applied)
                }
                Transition::Duplicate => Ok(Outcome::Duplicate),
                Transition::NotFound => {
                    tracing::warn!(order_id = %p.order_id, "payment refunded for an unknown order");
                    Ok(Outcome::Ignored)
                }
                // Noted on the order: not the refund of its sale.
                _ => Ok(Outcome::Applied),
            }
        }
        _ => Ok(Outcome::Ignored),
    }
}
