//! The handler of the four durable consumers (`notification-orders`, `-payments`,
//! `-catalog`, `-tickets`): each fact is planned (`crate::plan`) against the projection, recorded once with
//! its mails, and then its unsent mails are delivered. A mail the SMTP server could not take yet
//! makes the handler fail transiently (JetStream redelivers with backoff, the recorded fact is a
//! duplicate then and only the unsent mails go out); one it refused for good dead-letters the
//! fact with the server's answer as the reason.

use async_nats::jetstream::Message;
use contracts::Envelope;
use contracts::catalog::{EventCancelled, EventPublished};
use contracts::orders::{OrderCancelled, OrderConfirmed, OrderCreated};
use contracts::payments::{PaymentFailed, PaymentRefunded};
use contracts::subjects::{
    CATALOG_EVENT_CANCELLED, CATALOG_EVENT_PUBLISHED, CATALOG_EVENT_UPDATED, ORDERS_CANCELLED,
    ORDERS_CONFIRMED, ORDERS_CREATED, PAYMENTS_FAILED, PAYMENTS_REFUNDED, TICKETS_WAITLIST_CLOSED,
    TICKETS_WAITLIST_OFFERED,
};
use contracts::tickets::{WaitlistClosed, WaitlistOffered};
use platform::consumer::{HandleError, Outcome};
use serde::de::DeserializeOwned;
use serde_json::Value;
use uuid::Uuid;

use crate::deliver::{Delivered, deliver};
use crate::domain::{EventRecord, OrderRecord, Recorded};
use crate::plan::{self, Fact};
use crate::state::AppState;

/// Why a fact cannot be finished now but may be later.
#[derive(Debug, thiserror::Error)]
enum NotYet {
    #[error("order {0} is not in the projection yet")]
    UnknownOrder(Uuid),
    #[error("event {0} is not in the projection yet")]
    UnknownEvent(Uuid),
    #[error("a mail could not be sent yet: {0}")]
    NotSent(String),
}

/// Handles one message of any of the service's consumers.
pub async fn handle(state: &AppState, msg: &Message) -> Result<Outcome, HandleError> {
    apply(state, &msg.payload).await
}

/// Applies one envelope (the JSON payload of a message); facts are recognised by the envelope's
/// `type`, and those that cause no mail nor projection change are ignored.
pub async fn apply(state: &AppState, payload: &[u8]) -> Result<Outcome, HandleError> {
    let envelope: Envelope<Value> = serde_json::from_slice(payload)
        .map_err(|e| HandleError::Poison(format!("unreadable fact: {e}")))?;
    let now = platform::time::now();
    let max_age =
        chrono::Duration::from_std(state.config.max_fact_age).unwrap_or(chrono::Duration::days(1));
    let fact = Fact {
        id: envelope.id.to_string(),
        subject: envelope.kind.clone(),
        time: envelope.time,
        now,
        fresh: envelope.time > now - max_age,
    };
    let store = &state.store;
    let record = match envelope.kind.as_str() {
        ORDERS_CREATED => plan::order_created(&fact, data::<OrderCreated>(&envelope)?),
        ORDERS_CONFIRMED => {
            let e: OrderConfirmed = data(&envelope)?;
            let Some(order) = known_order(state, &fact, e.order_id).await? else {
                return Ok(Outcome::Ignored);
            };
            let event = known_event(state, e.event_id).await?;
            plan::order_confirmed(&fact, e, order, &event)
        }
        ORDERS_CANCELLED => {
            let e: OrderCancelled = data(&envelope)?;
            let Some(order) = known_order(state, &fact, e.order_id).await? else {
                return Ok(Outcome::Ignored);
            };
            let event = store.event(e.event_id).await?;
            plan::order_cancelled(&fact, e, order, event.as_ref())
        }
        PAYMENTS_FAILED => {
            let e: PaymentFailed = data(&envelope)?;
            let Some(order) = known_order(state, &fact, e.order_id).await? else {
                return Ok(Outcome::Ignored);
            };
            let event = store.event(order.event_id).await?;
            plan::payment_failed(&fact, e, &order, event.as_ref())
        }
        PAYMENTS_REFUNDED => {
            let e: PaymentRefunded = data(&envelope)?;
            let Some(order) = known_order(state, &fact, e.order_id).await? else {
                return Ok(Outcome::Ignored);
            };
            let event = store.event(order.event_id).await?;
            plan::payment_refunded(&fact, e, &order, event.as_ref())
        }
        // `catalog.events.updated` has the same shape as `.published`.
        CATALOG_EVENT_PUBLISHED | CATALOG_EVENT_UPDATED => {
            let e: EventPublished = data(&envelope)?;
            let next = plan::event_record(e.event_id, e.version, &e.details);
            let previous = store.event(e.event_id).await?;
            let orders = store.paid_orders_of_event(e.event_id).await?;
            plan::event_changed(&fact, next, previous.as_ref(), &orders)
        }
        CATALOG_EVENT_CANCELLED => {
            let e: EventCancelled = data(&envelope)?;
            let previous = store.event(e.event_id).await?;
            let orders = store.paid_orders_of_event(e.event_id).await?;
            plan::event_cancelled(&fact, e, previous.as_ref(), &orders)
        }
        TICKETS_WAITLIST_OFFERED => {
            let e: WaitlistOffered = data(&envelope)?;
            let event = store.event(e.place.event_id).await?;
            plan::waitlist_offered(&fact, e, event.as_ref())
        }
        TICKETS_WAITLIST_CLOSED => {
            let e: WaitlistClosed = data(&envelope)?;
            let event = store.event(e.place.event_id).await?;
            plan::waitlist_closed(&fact, e, event.as_ref())
        }
        _ => return Ok(Outcome::Ignored),
    };
    let recorded = store.record(&record).await?;
    // A fact recorded just now with no mails has none to send; a duplicate may have mails an
    // earlier delivery could not send yet.
    if recorded == Recorded::Duplicate || !record.mails.is_empty() {
        send_mails_of(state, &fact.id).await?;
    }
    Ok(match recorded {
        Recorded::Applied => Outcome::Applied,
        Recorded::Duplicate => Outcome::Duplicate,
    })
}

fn data<T: DeserializeOwned>(envelope: &Envelope<Value>) -> Result<T, HandleError> {
    T::deserialize(&envelope.data)
        .map_err(|e| HandleError::Poison(format!("unreadable {} data: {e}", envelope.kind)))
}

/// The order a fact is about. Unknown: a fact to mail about waits for its `orders.created`
/// (another stream, or a redelivery, may be behind); an old one is let go (`None`).
async fn known_order(
    state: &AppState,
    fact: &Fact,
    id: Uuid,
) -> Result<Option<OrderRecord>, HandleError> {
    match state.store.order(id).await? {
        Some(order) => Ok(Some(order)),
        None if fact.fresh => Err(HandleError::transient(NotYet::UnknownOrder(id))),
        None => Ok(None),
    }
}

/// The event a confirmation needs for its calendar file.
async fn known_event(state: &AppState, id: Uuid) -> Result<EventRecord, HandleError> {
    state
        .store
        .event(id)
        .await?
        .ok_or_else(|| HandleError::transient(NotYet::UnknownEvent(id)))
}

/// Delivers the unsent mails of one fact: any the server could not take yet fails the handler
/// transiently, any it refused for good makes the fact poison.
async fn send_mails_of(state: &AppState, fact_id: &str) -> Result<(), HandleError> {
    let mails = state
        .store
        .unsent(Some(fact_id), platform::time::now(), 10_000)
        .await?;
    let (mut retry, mut refused) = (None, None);
    for mail in &mails {
        match deliver(state, mail).await? {
            Delivered::Sent | Delivered::NotClaimed => {}
            Delivered::Retry(reason) => retry = Some(reason),
            Delivered::Failed(reason) => refused = Some(reason),
        }
    }
    if let Some(reason) = refused {
        return Err(HandleError::Poison(format!("mail refused: {reason}")));
    }
    if let Some(reason) = retry {
        return Err(HandleError::transient(NotYet::NotSent(reason)));
    }
    Ok(())
}
