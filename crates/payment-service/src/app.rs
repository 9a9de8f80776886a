//! Wiring: the service's parts, the router, background work (outbox relay, order consumer,
//! maintenance) and the server.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use platform::AuthClient;
use platform::background::Background;
use platform::health::Readiness;
use platform::outbox::Relay;
use platform::service::Service;
use tokio::sync::Notify;

use crate::config::PaymentConfig;
use crate::gateway::Gateway;
use crate::orders::TicketClient;
use crate::state::AppState;
use crate::store::{self, PaymentStore};
use crate::{openapi, routes};

pub struct App {
    pub state: AppState,
}

impl App {
    /// Starts the outbox relay, the `payment-orders` consumer and the maintenance sweep;
    /// [`Background::stop`] (or dropping it) stops them. Unacknowledged order events are
    /// redelivered, unsent messages wait in the outbox for the next start.
    pub fn spawn_background(&self) -> Background {
        let state = &self.state;
        // Often enough to notice interrupted payments well within their stale time.
        let maintenance = state
            .config
            .stale_after
            .clamp(Duration::from_millis(100), Duration::from_secs(10));
        Background::new()
            .relay(Relay::new(
                "payment-service",
                state.store.outbox(),
                state.nats.clone(),
                state.relay_wake.clone(),
            ))
            .consumer(
                state.js.clone(),
                contracts::jetstream::PAYMENT_ORDERS,
                state.config.consumer_concurrency,
                state.clone(),
                |s, m| Box::pin(crate::consumer::handle(s, m)),
            )
            .every("maintenance sweep", maintenance, state.clone(), |s| {
                Box::pin(sweep(s))
            })
    }
}

/// Connects to NATS, opens the configured store and prepares the service (streams).
pub async fn build(config: PaymentConfig) -> anyhow::Result<App> {
    let nats = platform::nats::connect_to(&config.links, "payment-service").await?;
    let store = store::open(&config.base.store).await?;
    build_with(config, store, nats).await
}

/// Like [`build`] with a given store and NATS connection (tests).
pub async fn build_with(
    config: PaymentConfig,
    store: Arc<dyn PaymentStore>,
    nats: async_nats::Client,
) -> anyhow::Result<App> {
    let js = platform::nats::jetstream_with_streams(nats.clone()).await?;
    let state = AppState {
        auth: AuthClient::from_links(&config.links).following_sessions(nats.clone()),
        tickets: TicketClient::new(&config.ticket_url, config.ticket_timeout),
        gateway: Arc::new(Gateway::new(config.success_rate)),
        store,
        config: Arc::new(config),
        nats,
        js,
        relay_wake: Arc::new(Notify::new()),
        arrivals: Arc::default(),
    };
    Ok(App { state })
}

impl Service for AppState {
    fn routes() -> Router<AppState> {
        routes::router().merge(platform::openapi::route(openapi::PATH, &openapi::openapi()))
    }

    fn readiness(&self) -> Readiness {
        Readiness::new("payment-service")
            .store_of(self.store.clone(), |s| s.ping())
            .nats(self.nats.clone())
    }
}

/// One maintenance pass: fails payments a dead process left unfinished, and deletes idempotency
/// keys past their TTL; returns how many stale payments were failed.
pub async fn sweep(state: &AppState) -> Result<u64, platform::StoreError> {
    let now = platform::time::now();
    let stale = chrono::Duration::from_std(state.config.stale_after)
        .unwrap_or(chrono::Duration::seconds(60));
    let traceparent = platform::trace::continue_trace(None);
    let failed = state
        .store
        .abandon_stale(now - stale, now, &traceparent)
        .await?;
    if failed > 0 {
        state.wake_relay();
        tracing::warn!(failed, "interrupted payments marked failed");
    }
    let ttl = chrono::Duration::from_std(state.config.idempotency_ttl)
        .unwrap_or(chrono::Duration::days(1));
    state.store.purge_keys(now - ttl).await?;
    Ok(failed)
}

/// Serves until Ctrl-C or SIGTERM, then stops the background work.
pub async fn run(config: PaymentConfig) -> anyhow::Result<()> {
    let addr = config.base.http.addr;
    let app = build(config).await?;
    platform::service::serve(addr, app.state.clone(), app.spawn_background()).await
}
