//! The HTTP client of the event service (the catalogue): `GET /api/events/:id`, asked the first
//! time an event is booked or its availability shown.

use std::time::Duration;

use api_types::events::RefundPolicy;
use api_types::queue::SaleStart;
use chrono::{DateTime, Utc};
use platform::money::{Currency, Money};
use serde::Deserialize;
use uuid::Uuid;

use crate::error::TicketError;
use crate::store::{EventInfo, EventStatus, TicketTypeInfo};

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
    #[serde(default)]
    created_by: Option<Uuid>,
    #[serde(default)]
    refund_policy: RefundPolicy,
    #[serde(flatten)]
    sale: SaleStart,
    #[serde(default = "api_types::waitlist::on_by_default")]
    waitlist_enabled: bool,
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
            .pool_idle_timeout(platform::http::CLIENT_POOL_IDLE)
            .build()
            .expect("a client without TLS always builds");
        Self {
            http,
            base: base.trim_end_matches('/').to_string(),
        }
    }

    /// The event's `onSaleAt` and `queue` with its version; `None` when it does not exist (or is
    /// not public).
    pub async fn fetch_sale_start(
        &self,
        id: Uuid,
    ) -> Result<Option<(u64, SaleStart)>, TicketError> {
        Ok(self.get(id).await?.map(|e| (e.version, e.sale)))
    }

    async fn get(&self, id: Uuid) -> Result<Option<EventJson>, TicketError> {
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
        Ok(Some(match answer {
            EventAnswer::Wrapped { event } | EventAnswer::Bare(event) => event,
        }))
    }

    /// The event as the catalogue publishes it; `None` when it does not exist (or is not public).
    pub async fn fetch(&self, id: Uuid) -> Result<Option<EventInfo>, TicketError> {
        let Some(e) = self.get(id).await? else {
            return Ok(None);
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
            organizer_id: e.created_by,
            refund_policy: e.refund_policy,
            waitlist_enabled: e.waitlist_enabled,
        }))
    }
}
