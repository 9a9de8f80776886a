//! Wiring: builds the state, assembles the router (routes, the OpenAPI document, health checks),
//! starts the background work (outbox relay, consumers, expiry, the cancellation cascade, live
//! availability) under the platform's supervisor and serves.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use axum::Router;
use contracts::jetstream::{TICKET_CATALOG, TICKET_PAYMENTS};
use platform::AuthClient;
use platform::background::Background;
use platform::health::Readiness;
use platform::outbox::Relay;
use platform::service::Service;
use tokio::sync::Notify;

use crate::catalog_client::EventClient;
use crate::config::TicketConfig;
use crate::state::{AppState, Shared};
use crate::store::{self, TicketStore};
use crate::waiting_room::WaitingRoom;

pub struct App {
    pub state: AppState,
    pub js: jetstream::Context,
}

/// Opens the configured store, connects to NATS and creates the streams.
pub async fn build(config: TicketConfig) -> anyhow::Result<App> {
    let store = store::open(&config.base.store).await?;
    build_with_store(config, store).await
}

pub async fn build_with_store(
    config: TicketConfig,
    store: Arc<dyn TicketStore>,
) -> anyhow::Result<App> {
    let nats = platform::nats::connect_to(&config.links, "ticket-service").await?;
    let js = platform::nats::jetstream_with_streams(nats.clone()).await?;
    let waiting_room = WaitingRoom::open(&js, config.queue_pass).await?;
    let state = AppState::new(Shared {
        store,
        auth: AuthClient::from_links(&config.links).following_sessions(nats.clone()),
        events: EventClient::new(&config.event_url),
        config: Arc::new(config),
        outbox_wake: Arc::new(Notify::new()),
        cascade_wake: Arc::new(Notify::new()),
        nats,
        changes: crate::live::channel(),
        waiting_room,
    });
    Ok(App { state, js })
}

impl Service for AppState {
    fn routes() -> Router<AppState> {
        crate::routes::router().merge(crate::openapi::router())
    }

    fn readiness(&self) -> Readiness {
        Readiness::new("ticket-service")
            .store_of(self.store.clone(), |s| s.ping())
            .nats(self.nats.clone())
    }
}

/// How often old processed ids and idempotency keys are looked for.
const PURGE_EVERY: Duration = Duration::from_secs(3600);

impl App {
    /// Starts the outbox relay, both consumers, the expiry sweep, the bookkeeping purge, the
    /// cancellation cascade, the waiting room's follower and purge and live availability; [`Background::stop`] (or dropping it) stops
    /// them. Unacknowledged messages are redelivered, unsent facts wait in the outbox for the
    /// next start.
    pub fn spawn_background(&self) -> Background {
        let state = &self.state;
        let concurrency = state.config.consumer_concurrency;
        Background::new()
            .relay(Relay::new(
                "ticket-service",
                state.store.outbox(),
                state.nats.clone(),
                state.outbox_wake.clone(),
            ))
            .consumer(
                self.js.clone(),
                TICKET_PAYMENTS,
                concurrency,
                state.clone(),
                |s, m| Box::pin(crate::saga::handle(s, m)),
            )
            .consumer(
                self.js.clone(),
                TICKET_CATALOG,
                concurrency,
                state.clone(),
                |s, m| Box::pin(crate::catalog::handle(s, m)),
            )
            .every(
                "expiry sweep",
                state.config.expiry_sweep,
                state.clone(),
                |s| Box::pin(crate::expiry::expire_due(s)),
            )
            .every(
                "waitlist offer sweep",
                state.config.expiry_sweep,
                state.clone(),
                |s| Box::pin(crate::waitlist_steps::lapse_due(s)),
            )
            .every("bookkeeping purge", PURGE_EVERY, state.clone(), |s| {
                Box::pin(crate::expiry::purge_bookkeeping(s))
            })
            .every(
                "waiting room purge",
                crate::waiting_room::PURGE_EVERY,
                state.clone(),
                |s| Box::pin(WaitingRoom::purge_over(s)),
            )
            // Not a plain periodic sweep: a cancellation wakes it at once.
            .task(crate::cascade::sweep(state.clone()))
            .task(crate::live::follow_broker(
                state.nats.clone(),
                state.changes.clone(),
            ))
            .task(state.waiting_room.clone().follow())
    }
}

/// Serves until Ctrl-C or SIGTERM, then stops the background work.
pub async fn run(config: TicketConfig) -> anyhow::Result<()> {
    let addr = config.base.http.addr;
    let app = build(config).await?;
    platform::service::serve(addr, app.state.clone(), app.spawn_background()).await
}
