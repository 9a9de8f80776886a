//! What the ticket service knows of the catalogue: learned from the event service the first time
//! an event is booked, then kept in sync from the `CATALOG` stream.

use std::time::Duration;

use async_nats::jetstream::Message;
use chrono::{DateTime, Utc};
use contracts::catalog::{EventCancelled, EventDetails, EventPublished, EventUpdated};
use contracts::orders::CancelReason;
use contracts::subjects;
use platform::consumer::{self, HandleError, Outcome};
use platform::money::{Currency, Money};
use serde::Deserialize;
use uuid::Uuid;

use crate::app::AppState;
use crate::error::TicketError;
use crate::store::{EventInfo, EventStatus, TicketTypeInfo, Transition};

/// Client for `GET /api/events/:id`; one connection pool for the whole service.
#[derive(Clone)]
pub struct EventClient {
    http: reqwest::Client,
    base: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventJson {
    id: Uuid,
    title: String,
    date_time: DateTime<Utc>,
    status: EventStatus,
    #[serde(default)]
    version: u64,
    #[serde(default = "usd")]
    currency: String,
    ticket_types: Vec<TicketTypeJson>,
}

fn usd() -> String {
    "USD".into()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TicketTypeJson {
    name: String,
    price: serde_json::Number,
    price_minor: Option<i64>,
    quantity: u32,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum EventAnswer {
    Wrapped { event: EventJson },
    Bare(EventJson),
}

impl EventClient {
    pub fn new(base: &str) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(3))
            .pool_max_idle_per_host(16)
            .build()
            .expect("a client without TLS always builds");
        Self {
            http,
            base: base.trim_end_matches('/').to_string(),
        }
    }

    /// The event as the catalogue publishes it; `None` when it does not exist (or is not public).
    pub async fn fetch(&self, id: Uuid) -> Result<Option<EventInfo>, TicketError> {
        let res = self
            .http
            .get(format!("{}/api/events/{id}", self.base))
            .send()
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "event service unreachable");
                TicketError::CatalogUnavailable
            })?;
        if res.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !res.status().is_success() {
            tracing::warn!(status = %res.status(), "event service failed");
            return Err(TicketError::CatalogUnavailable);
        }
        let answer: EventAnswer = res.json().await.map_err(|e| {
            tracing::warn!(error = %e, "event service sent an unreadable event");
            TicketError::CatalogUnavailable
        })?;
        let e = match answer {
            EventAnswer::Wrapped { event } | EventAnswer::Bare(event) => event,
        };
        let currency = Currency::parse(&e.currency).map_err(|_| TicketError::CatalogUnavailable)?;
        let mut ticket_types = Vec::with_capacity(e.ticket_types.len());
        for t in e.ticket_types {
            let price = match t.price_minor {
                Some(p) => p,
                None => platform::money::parse_minor_units(&t.price.to_string())
                    .map_err(|_| TicketError::CatalogUnavailable)?,
            };
            ticket_types.push(TicketTypeInfo {
                name: t.name,
                price: Money::from_minor_units(price, currency),
                quantity: t.quantity,
            });
        }
        Ok(Some(EventInfo {
            id: e.id,
            title: e.title,
            date_time: e.date_time,
            status: e.status,
            version: e.version,
            currency,
            ticket_types,
        }))
    }
}

fn info(event_id: Uuid, version: u64, details: EventDetails) -> EventInfo {
    let currency = details
        .ticket_types
        .first()
        .and_then(|t| Currency::parse(&t.price.currency).ok())
        .unwrap_or(Currency::USD);
    EventInfo {
        id: event_id,
        title: details.title,
        date_time: details.date_time,
        status: EventStatus::Published,
        version,
        currency,
        ticket_types: details
            .ticket_types
            .into_iter()
            .map(|t| TicketTypeInfo {
                name: t.name,
                price: Money::from_minor_units(t.price.minor_units, currency),
                quantity: t.quantity,
            })
            .collect(),
    }
}

/// Handles one catalogue fact. Applying an event is idempotent by version; cancelling orders is
/// idempotent by the conditional transition, so no processed-id bookkeeping is needed.
pub async fn handle(state: &AppState, msg: &Message) -> Result<Outcome, HandleError> {
    let tp = consumer::traceparent(msg);
    match msg.subject.as_str() {
        subjects::CATALOG_EVENT_PUBLISHED => {
            let e = consumer::envelope::<EventPublished>(msg)?.data;
            let applied = state
                .store
                .apply_event(&info(e.event_id, e.version, e.details))
                .await?;
            Ok(if applied {
                Outcome::Applied
            } else {
                Outcome::Duplicate
            })
        }
        subjects::CATALOG_EVENT_UPDATED => {
            let e = consumer::envelope::<EventUpdated>(msg)?.data;
            let applied = state
                .store
                .apply_event(&info(e.event_id, e.version, e.details))
                .await?;
            Ok(if applied {
                Outcome::Applied
            } else {
                Outcome::Duplicate
            })
        }
        subjects::CATALOG_EVENT_CANCELLED => {
            let e = consumer::envelope::<EventCancelled>(msg)?.data;
            let known = state.store.event_stock(e.event_id).await?;
            let cancelled = EventInfo {
                id: e.event_id,
                title: e.title,
                date_time: e.date_time,
                status: EventStatus::Cancelled,
                version: e.version,
                currency: known.map_or(Currency::USD, |k| k.event.currency),
                ticket_types: Vec::new(),
            };
            state.store.apply_event(&cancelled).await?;
            let mut n = 0;
            for order_id in state.store.pending_of_event(e.event_id).await? {
                let t = state
                    .store
                    .cancel(order_id, CancelReason::EventCancelled, tp.as_deref())
                    .await?;
                if matches!(t, Transition::Applied(_)) {
                    n += 1;
                }
            }
            if n > 0 {
                state.outbox_wake.notify_one();
                tracing::info!(event_id = %e.event_id, cancelled = n, "pending orders of a cancelled event cancelled");
            }
            Ok(Outcome::Applied)
        }
        _ => Ok(Outcome::Ignored),
    }
}
