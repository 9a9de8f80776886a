//! The projection of orders, fed by the durable `payment-orders` consumer of `orders.>`, and the
//! refund decision it drives: when an order is cancelled (for any reason) while it has a
//! completed payment, that payment is refunded and `payments.refunded` is published, in the same
//! transaction that records the event as processed.

use async_nats::jetstream::Message;
use contracts::Envelope;
use contracts::orders::{OrderCancelled, OrderConfirmed, OrderCreated};
use contracts::subjects::{ORDERS_CANCELLED, ORDERS_CONFIRMED, ORDERS_CREATED};
use platform::consumer::{HandleError, Outcome};
use platform::money::{Currency, Money};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::domain::{OrderRecord, OrderSource, OrderStatus};
use crate::state::AppState;
use crate::store::{FactApplied, OrderFact};

/// Handles one message of the `payment-orders` consumer.
pub async fn handle(state: &AppState, msg: &Message) -> Result<Outcome, HandleError> {
    let traceparent = platform::consumer::traceparent(msg);
    apply(state, &msg.payload, traceparent.as_deref()).await
}

/// Applies one `orders.*` envelope (the JSON payload of a message). Facts are recognised by the
/// envelope's `type`, so a subject with an extra id token works too.
pub async fn apply(
    state: &AppState,
    payload: &[u8],
    traceparent: Option<&str>,
) -> Result<Outcome, HandleError> {
    let envelope: Envelope<Value> = serde_json::from_slice(payload)
        .map_err(|e| HandleError::Poison(format!("unreadable order event: {e}")))?;
    let order = match envelope.kind.as_str() {
        ORDERS_CREATED => created(data(&envelope)?)?,
        ORDERS_CONFIRMED => confirmed(data(&envelope)?)?,
        ORDERS_CANCELLED => cancelled(data(&envelope)?),
        _ => return Ok(Outcome::Ignored),
    };
    let fact = OrderFact {
        event_id: envelope.id,
        subject: envelope.kind.clone(),
        order: OrderRecord {
            updated_at: envelope.time,
            ..order
        },
        at: platform::time::now(),
        traceparent: platform::trace::continue_trace(traceparent),
    };
    let applied = state.store.apply_order_fact(&fact).await?;
    // Either way the projection now knows the order: a payment waiting for it may go on.
    state.arrivals.arrived(fact.order.id);
    match applied {
        FactApplied::Duplicate => Ok(Outcome::Duplicate),
        FactApplied::Applied { refunded } => {
            if !refunded.is_empty() {
                state.wake_relay();
            }
            for p in &refunded {
                crate::counters::refunded(p);
                tracing::info!(
                    payment_id = %p.id,
                    order_id = %p.order_id,
                    amount = %p.amount.decimal(),
                    "payment refunded: its order was cancelled"
                );
            }
            Ok(Outcome::Applied)
        }
    }
}

fn data<T: DeserializeOwned>(envelope: &Envelope<Value>) -> Result<T, HandleError> {
    T::deserialize(&envelope.data)
        .map_err(|e| HandleError::Poison(format!("unreadable {} data: {e}", envelope.kind)))
}

fn money(price: &contracts::catalog::Price) -> Result<Money, HandleError> {
    let currency = Currency::parse(&price.currency)
        .map_err(|e| HandleError::Poison(format!("price currency {:?}: {e}", price.currency)))?;
    Ok(Money::from_minor_units(price.minor_units, currency))
}

/// The order an `orders.*` fact is about, as the fact's status leaves it; each fact adds what it
/// alone carries (amount, hold, reason).
fn order(
    id: uuid::Uuid,
    user_id: uuid::Uuid,
    event_id: uuid::Uuid,
    booking_reference: String,
    status: OrderStatus,
) -> OrderRecord {
    OrderRecord {
        id,
        user_id,
        event_id: Some(event_id),
        booking_reference: Some(booking_reference),
        amount: None,
        status,
        cancel_reason: None,
        expires_at: None,
        source: OrderSource::Events,
        updated_at: platform::time::now(),
    }
}

fn created(e: OrderCreated) -> Result<OrderRecord, HandleError> {
    Ok(OrderRecord {
        amount: Some(money(&e.total_amount)?),
        expires_at: Some(e.expires_at),
        ..order(
            e.order_id,
            e.user_id,
            e.event_id,
            e.booking_reference,
            OrderStatus::Pending,
        )
    })
}

fn confirmed(e: OrderConfirmed) -> Result<OrderRecord, HandleError> {
    Ok(OrderRecord {
        amount: Some(money(&e.total_amount)?),
        ..order(
            e.order_id,
            e.user_id,
            e.event_id,
            e.booking_reference,
            OrderStatus::Confirmed,
        )
    })
}

fn cancelled(e: OrderCancelled) -> OrderRecord {
    OrderRecord {
        cancel_reason: Some(e.reason),
        ..order(
            e.order_id,
            e.user_id,
            e.event_id,
            e.booking_reference,
            OrderStatus::Cancelled,
        )
    }
}
