//! A real ticket service for tests: in-memory SQLite, a real auth service and a real nats-server.

use std::sync::Arc;
use std::time::Duration;

use platform::background::Background;
use platform::config::BaseConfig;
use platform::testing::{NatsServer, TestServer};
use uuid::Uuid;

use crate::app::App;
use crate::config::TicketConfig;
use crate::order::OrderDetails;
use crate::store::{SqliteStore, TicketStore};

pub fn config(nats: &NatsServer, auth_url: &str, event_url: &str) -> TicketConfig {
    TicketConfig {
        base: BaseConfig::in_memory(),
        links: platform::testing::links(nats.url(), auth_url),
        event_url: event_url.to_string(),
        hold: Duration::from_secs(900),
        max_tickets_per_order: 10,
        max_failed_payments: 3,
        expiry_sweep: Duration::from_millis(200),
        consumer_concurrency: 16,
        waitlist_offer: Duration::from_secs(1800),
        queue_pass: Duration::from_secs(600),
    }
}

/// A running ticket service and its parts, for tests that reach inside.
pub struct TicketHarness {
    pub server: TestServer,
    pub app: App,
    pub store: Arc<dyn TicketStore>,
    pub background: Option<Background>,
}

impl TicketHarness {
    pub async fn start(config: TicketConfig) -> Self {
        let store: Arc<dyn TicketStore> = Arc::new(SqliteStore::in_memory().expect("store"));
        Self::start_with_store(config, store, true).await
    }

    /// `background: false` leaves the relay, consumers and sweeper off, for tests that drive them.
    pub async fn start_with_store(
        config: TicketConfig,
        store: Arc<dyn TicketStore>,
        background: bool,
    ) -> Self {
        let app = crate::build_with_store(config, store.clone())
            .await
            .expect("ticket service builds");
        let server = TestServer::spawn(platform::service::router(app.state.clone())).await;
        let background = background.then(|| app.spawn_background());
        Self {
            server,
            app,
            store,
            background,
        }
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    pub async fn stop_background(&mut self) {
        if let Some(b) = self.background.take() {
            b.stop().await;
        }
    }
}

/// The order as `store` holds it, with its payment attempts and tickets; it must exist.
pub async fn order_details(store: &Arc<dyn TicketStore>, order_id: Uuid) -> OrderDetails {
    store
        .order(order_id)
        .await
        .expect("the store answers")
        .expect("the order is stored")
}

/// The data of every `subject` fact waiting in the store's outbox, oldest first.
pub async fn pending_facts<T: serde::de::DeserializeOwned>(
    store: &dyn TicketStore,
    subject: &str,
) -> Vec<T> {
    store
        .outbox()
        .pending(10_000)
        .await
        .expect("the outbox reads")
        .into_iter()
        .filter(|m| m.subject == subject)
        .map(|m| {
            let envelope: contracts::Envelope<T> =
                serde_json::from_slice(&m.payload).expect("an envelope");
            envelope.data
        })
        .collect()
}

/// The tickets issued to an order, as the order's JSON answer lists them.
pub fn issued_tickets(order: &serde_json::Value) -> &[serde_json::Value] {
    order["issuedTickets"]
        .as_array()
        .unwrap_or_else(|| panic!("an order with issuedTickets: {order}"))
}

/// The codes of the tickets issued to an order, as its JSON answer lists them.
pub fn ticket_codes(order: &serde_json::Value) -> std::collections::HashSet<String> {
    issued_tickets(order)
        .iter()
        .map(|t| t["code"].as_str().expect("a ticket code").to_string())
        .collect()
}

/// Whether every ticket issued to an order is void.
pub fn all_void(order: &serde_json::Value) -> bool {
    issued_tickets(order).iter().all(|t| t["void"] == true)
}

/// `catalog.events.cancelled` for `event_id` at catalogue `version`, the event a month away.
pub fn event_cancelled(event_id: uuid::Uuid, version: u64) -> contracts::catalog::EventCancelled {
    contracts::catalog::EventCancelled {
        event_id,
        version,
        title: "Called off".into(),
        date_time: chrono::Utc::now() + chrono::Duration::days(30),
        cancelled_at: chrono::Utc::now(),
    }
}
