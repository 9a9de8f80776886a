//! Finding the order a payment is for. The projection fed by `orders.*` answers on the happy
//! path, without any call to the ticket service. A buyer can be faster than the broker, though:
//! the browser posts the payment right after booking, possibly before `orders.created` reached
//! this service. So a missing order is waited for (woken by the order consumer when
//! the fact is stored, bounded by `ORDER_WAIT_MS`), and only then asked from the ticket service's
//! `GET /api/tickets/orders/:id` with the caller's cookie (bounded by `TICKET_TIMEOUT_MS`). Its
//! answer is merged into the projection like any fact. A fresh order never fails because of the
//! race; a truly unknown one is a 404, and an unreachable ticket service a 503.

use std::time::Duration;

use api_types::orders::{OrderResponse, OrderView};
use platform::money::{Currency, Money};
use platform::peer::PeerClient;
use reqwest::StatusCode;
use uuid::Uuid;

use crate::arrivals::OrderArrivals;
use crate::domain::{OrderRecord, OrderSource};
use crate::error::PaymentError;
use crate::store::PaymentStore;

/// How often the projection is looked at again while waiting without a wake-up.
const LOOK_AGAIN: Duration = Duration::from_millis(250);

/// The ticket service, asked only for orders the projection does not know yet.
#[derive(Clone)]
pub struct TicketClient(PeerClient);

#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error("ticket service unreachable")]
    Unreachable(#[source] reqwest::Error),
    #[error("ticket service answered {0}")]
    Status(StatusCode),
    #[error("ticket service sent an unreadable order: {0}")]
    Unreadable(String),
}

impl TicketClient {
    pub fn new(base_url: &str, timeout: Duration) -> Self {
        Self(PeerClient::new(base_url, timeout))
    }

    /// The order as its owner sees it; `Ok(None)` when the ticket service says there is no such
    /// order for this caller.
    pub async fn order(
        &self,
        id: Uuid,
        cookie: Option<&str>,
    ) -> Result<Option<OrderRecord>, LookupError> {
        let response = self
            .0
            .get_as(&format!("/api/tickets/orders/{id}"), cookie)
            .send()
            .await
            .map_err(LookupError::Unreachable)?;
        match response.status() {
            StatusCode::OK => {}
            StatusCode::NOT_FOUND | StatusCode::FORBIDDEN => return Ok(None),
            other => return Err(LookupError::Status(other)),
        }
        let answer: OrderResponse = response
            .json()
            .await
            .map_err(|e| LookupError::Unreadable(e.to_string()))?;
        record(answer.order.order).map(Some)
    }
}

/// What the projection keeps of the ticket service's order: its exact amount in minor units.
fn record(o: OrderView) -> Result<OrderRecord, LookupError> {
    let currency = Currency::parse(&o.currency).map_err(|e| LookupError::Unreadable(e.into()))?;
    Ok(OrderRecord {
        id: o.id,
        user_id: o.user_id,
        event_id: Some(o.event_id),
        booking_reference: Some(o.booking_reference),
        amount: Some(Money::from_minor_units(o.total_amount_minor, currency)),
        status: o.status,
        cancel_reason: o.cancel_reason,
        expires_at: Some(o.expires_at),
        source: OrderSource::TicketService,
        updated_at: platform::time::now(),
    })
}

/// The order `id`, from the projection (`store`), waiting for it at most `wait`, then from the
/// ticket service.
pub async fn find(
    store: &dyn PaymentStore,
    arrivals: &OrderArrivals,
    tickets: &TicketClient,
    wait: Duration,
    id: Uuid,
    cookie: Option<&str>,
) -> Result<OrderRecord, PaymentError> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let expected = arrivals.expect(id);
        let arrived = expected.notified();
        if let Some(order) = store.order(id).await? {
            return Ok(order);
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            break;
        }
        // Woken by this process's consumer; the look-again covers a fact another replica's
        // consumer stored in a shared database.
        let _ = tokio::time::timeout(LOOK_AGAIN.min(deadline - now), arrived).await;
    }
    match tickets.order(id, cookie).await {
        Ok(Some(order)) if order.id == id => {
            tracing::info!(order_id = %id, "order taken from the ticket service before its orders.created arrived");
            Ok(store.remember_order(&order).await?)
        }
        Ok(_) => Err(PaymentError::OrderNotFound),
        Err(e) => {
            tracing::warn!(order_id = %id, error = %platform::error::ErrorChain(&e), "order lookup fallback failed");
            Err(PaymentError::OrderLookupUnavailable)
        }
    }
}
