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
use uuid::Uuid;

use crate::lifecycle::{Command, Transition};
use crate::order::{AttemptStatus, PaymentAttempt};
use crate::state::AppState;

/// A payment result read from its fact: the order it is about and what it asks of the order.
struct PaymentResult {
    /// The fact's id, recorded as processed with the change.
    fact_id: Uuid,
    order_id: Uuid,
    command: Command,
}

pub async fn handle(state: &AppState, msg: &Message) -> Result<Outcome, HandleError> {
    let Some(result) = read(state, msg)? else {
        return Ok(Outcome::Ignored);
    };
    let tp = consumer::traceparent(msg);
    let transition = state
        .store
        .apply(
            result.order_id,
            &result.command,
            Some(result.fact_id),
            tp.as_deref(),
        )
        .await?;
    if let Transition::Applied(order) = &transition {
        state.order_changed(order);
    }
    Ok(report(&result, transition))
}

/// The command a payment fact asks for; `None` for a subject this consumer does not handle.
fn read(state: &AppState, msg: &Message) -> Result<Option<PaymentResult>, HandleError> {
    let result = match msg.subject.as_str() {
        subjects::PAYMENTS_COMPLETED => {
            let envelope = consumer::envelope::<PaymentCompleted>(msg)?;
            let p = envelope.data;
            PaymentResult {
                fact_id: envelope.id,
                order_id: p.order_id,
                command: Command::Confirm(PaymentAttempt {
                    payment_id: p.payment_id,
                    status: AttemptStatus::Completed,
                    response_code: Some("approved".into()),
                    response_message: Some(format!("Paid, transaction {}", p.transaction_id)),
                    at: envelope.time,
                }),
            }
        }
        subjects::PAYMENTS_FAILED => {
            let envelope = consumer::envelope::<PaymentFailed>(msg)?;
            let p = envelope.data;
            PaymentResult {
                fact_id: envelope.id,
                order_id: p.order_id,
                command: Command::RecordFailure {
                    attempt: PaymentAttempt {
                        payment_id: p.payment_id,
                        status: AttemptStatus::Failed,
                        response_code: Some(p.response_code),
                        response_message: Some(p.response_message),
                        at: envelope.time,
                    },
                    max_failures: state.config.max_failed_payments,
                },
            }
        }
        subjects::PAYMENTS_REFUNDED => {
            let envelope = consumer::envelope::<PaymentRefunded>(msg)?;
            let p = envelope.data;
            let currency = Currency::parse(&p.amount.currency).map_err(|e| {
                HandleError::Poison(format!("refund in currency {:?}: {e}", p.amount.currency))
            })?;
            PaymentResult {
                fact_id: envelope.id,
                order_id: p.order_id,
                command: Command::RecordRefund {
                    attempt: PaymentAttempt {
                        payment_id: p.payment_id,
                        status: AttemptStatus::Refunded,
                        response_code: Some("refunded".into()),
                        response_message: Some(p.reason),
                        at: envelope.time,
                    },
                    amount: Money::from_minor_units(p.amount.minor_units, currency),
                },
            }
        }
        _ => return Ok(None),
    };
    Ok(Some(result))
}

/// Logs what the payment result did to its order and how the message counts.
fn report(result: &PaymentResult, transition: Transition) -> Outcome {
    let order_id = result.order_id;
    match (&result.command, transition) {
        (_, Transition::Duplicate) => Outcome::Duplicate,
        (Command::Confirm(attempt), Transition::Applied(order)) => {
            tracing::info!(order_id = %order.id, payment_id = %attempt.payment_id, "order confirmed");
            Outcome::Applied
        }
        (
            Command::Confirm(attempt),
            Transition::NotPending(order)
            | Transition::NotConfirmed(order)
            | Transition::Recorded(order),
        ) => {
            tracing::warn!(order_id = %order.id, status = order.status.as_str(), payment_id = %attempt.payment_id,
                "payment completed for an order that is no longer pending; the payment service refunds it");
            Outcome::Ignored
        }
        (Command::Confirm(_), Transition::NotFound) => {
            tracing::warn!(order_id = %order_id, "payment completed for an unknown order");
            Outcome::Ignored
        }
        (Command::RecordFailure { .. }, Transition::Recorded(order)) => {
            tracing::info!(order_id = %order.id, failures = order.failed_payments,
                "payment declined, order stays pending");
            Outcome::Applied
        }
        (Command::RecordFailure { max_failures, .. }, Transition::Applied(order)) => {
            tracing::info!(order_id = %order.id, status = order.status.as_str(),
                "order ended after {max_failures} declined payments");
            Outcome::Applied
        }
        (Command::RecordRefund { attempt, .. }, Transition::Applied(order)) => {
            tracing::info!(order_id = %order.id, payment_id = %attempt.payment_id, "order refunded");
            Outcome::Applied
        }
        (Command::RecordRefund { .. }, Transition::NotFound) => {
            tracing::warn!(order_id = %order_id, "payment refunded for an unknown order");
            Outcome::Ignored
        }
        // Noted on the order: not the refund of its sale.
        (Command::RecordRefund { .. }, _) => Outcome::Applied,
        // A failure for an order that has ended or is unknown; commands this consumer does not send.
        _ => Outcome::Ignored,
    }
}
