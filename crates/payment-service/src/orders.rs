//! Finding the order a payment is for. The projection fed by `orders.*` answers on the happy
//! path, without any call to the ticket service. A buyer can be faster than the broker, though:
//! the browser posts the payment right after booking, possibly before `orders.created` reached
//! this service. So a missing order is waited for (polling the projection, bounded by
//! `ORDER_WAIT_MS`), and only then asked from the ticket service's
//! `GET /api/tickets/orders/:id` with the caller's cookie (bounded by `TICKET_TIMEOUT_MS`). Its
//! answer is merged into the projection like any fact. A fresh order never fails because of the
//! race; a truly unknown one is a 404, and an unreachable ticket service a 503.

use std::time::Duration;

use chrono::{DateTime, Utc};
use contracts::orders::CancelReason;
use platform::money::{Currency, Money, parse_minor_units};
use reqwest::StatusCode;
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::{OrderRecord, OrderSource, OrderStatus};
use crate::error::PaymentError;
use crate::store::PaymentStore;

/// How often the projection is looked at while waiting.
const POLL: Duration = Duration::from_millis(50);

/// The ticket service, asked only for orders the projection does not know yet.
#[derive(Clone)]
pub struct TicketClient {
    http: reqwest::Client,
    base: String,
    default_currency: Currency,
}

#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error("ticket service unreachable")]
    Unreachable(#[source] reqwest::Error),
    #[error("ticket service answered {0}")]
    Status(StatusCode),
    #[error("ticket service sent an unreadable order: {0}")]
    Unreadable(String),
}

#[derive(Deserialize)]
struct OrderAnswer {
    order: TicketOrder,
}

/// The fields of the ticket service's order this service needs.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TicketOrder {
    id: Uuid,
    user_id: Uuid,
    #[serde(default)]
    event_id: Option<Uuid>,
    #[serde(default)]
    booking_reference: Option<String>,
    status: String,
    #[serde(default)]
    cancel_reason: Option<String>,
    #[serde(default)]
    total_amount: Option<serde_json::Number>,
    #[serde(default)]
    total_amount_minor: Option<i64>,
    #[serde(default)]
    currency: Option<String>,
    #[serde(default)]
    expires_at: Option<DateTime<Utc>>,
}

impl TicketClient {
    pub fn new(base_url: &str, timeout: Duration, default_currency: Currency) -> Self {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .expect("a client without TLS always builds");
        Self {
            http,
            base: base_url.trim_end_matches('/').to_string(),
            default_currency,
        }
    }

    /// The order as its owner sees it; `Ok(None)` when the ticket service says there is no such
    /// order for this caller.
    pub async fn order(
        &self,
        id: Uuid,
        cookie: Option<&str>,
    ) -> Result<Option<OrderRecord>, LookupError> {
        let mut request = self
            .http
            .get(format!("{}/api/tickets/orders/{id}", self.base));
        if let Some(cookie) = cookie {
            request = request.header(reqwest::header::COOKIE, cookie);
        }
        let response = request.send().await.map_err(LookupError::Unreachable)?;
        match response.status() {
            StatusCode::OK => {}
            StatusCode::NOT_FOUND | StatusCode::FORBIDDEN => return Ok(None),
            other => return Err(LookupError::Status(other)),
        }
        let answer: OrderAnswer = response
            .json()
            .await
            .map_err(|e| LookupError::Unreadable(e.to_string()))?;
        self.record(answer.order).map(Some)
    }

    fn record(&self, o: TicketOrder) -> Result<OrderRecord, LookupError> {
        let status = OrderStatus::parse(&o.status)
            .ok_or_else(|| LookupError::Unreadable(format!("status {:?}", o.status)))?;
        let currency = match o.currency.as_deref() {
            Some(c) => Currency::parse(c).map_err(|e| LookupError::Unreadable(e.into()))?,
            None => self.default_currency,
        };
        // The integer amount when the ticket service sends it; else its decimal, parsed exactly.
        let minor = match (o.total_amount_minor, &o.total_amount) {
            (Some(minor), _) => Some(minor),
            (None, Some(decimal)) => Some(
                parse_minor_units(&decimal.to_string())
                    .map_err(|e| LookupError::Unreadable(e.to_string()))?,
            ),
            (None, None) => None,
        };
        Ok(OrderRecord {
            id: o.id,
            user_id: o.user_id,
            event_id: o.event_id,
            booking_reference: o.booking_reference,
            amount: minor.map(|m| Money::from_minor_units(m, currency)),
            status,
            cancel_reason: o.cancel_reason.as_deref().and_then(CancelReason::parse),
            expires_at: o.expires_at,
            source: OrderSource::TicketService,
            updated_at: platform::time::now(),
        })
    }
}

/// The order `id`, from the projection (`store`), waiting for it at most `wait`, then from the
/// ticket service.
pub async fn find(
    store: &dyn PaymentStore,
    tickets: &TicketClient,
    wait: Duration,
    id: Uuid,
    cookie: Option<&str>,
) -> Result<OrderRecord, PaymentError> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        if let Some(order) = store.order(id).await? {
            return Ok(order);
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            break;
        }
        tokio::time::sleep(POLL.min(deadline - now)).await;
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
