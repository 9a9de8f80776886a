//! Wiring: the service's parts, the router, start-up tasks (streams, demo data, outbox relay) and
//! the server.

use std::sync::Arc;

use async_nats::jetstream;
use axum::Router;
use platform::AuthClient;
use platform::background::Background;
use platform::health::Readiness;
use platform::outbox::Relay;
use platform::service::Service;
use tokio::sync::Notify;

use crate::config::EventConfig;
use crate::state::AppState;
use crate::store::{self, EventStore};
use crate::tickets::TicketClient;
use crate::{openapi, routes};

pub struct App {
    pub state: AppState,
    pub js: jetstream::Context,
}

impl App {
    /// Starts the outbox relay; [`Background::stop`] (or dropping it) stops publishing.
    pub fn spawn_background(&self) -> Background {
        Background::new().relay(Relay::new(
            "event-service",
            self.state.store.outbox(),
            self.state.nats.clone(),
            self.state.relay_wake.clone(),
        ))
    }
}

/// Connects to NATS, opens the configured store and prepares the service.
pub async fn build(config: EventConfig) -> anyhow::Result<App> {
    let nats = platform::nats::connect_to(&config.links, "event-service").await?;
    let store = store::open(&config.base.store).await?;
    build_with(config, store, nats).await
}

/// Like [`build`] with a given store and NATS connection (tests).
pub async fn build_with(
    config: EventConfig,
    store: Arc<dyn EventStore>,
    nats: async_nats::Client,
) -> anyhow::Result<App> {
    let js = platform::nats::jetstream_with_streams(nats.clone()).await?;
    if let Some(organizer) = &config.demo {
        let added = crate::demo::seed(
            store.as_ref(),
            organizer,
            config.currency,
            platform::time::now(),
        )
        .await?;
        if added > 0 {
            tracing::info!(events = added, organizer = %organizer.id, "demo catalogue loaded");
        }
    }
    let state = AppState {
        auth: AuthClient::from_links(&config.links).following_sessions(nats.clone()),
        tickets: TicketClient::new(&config.ticket_url, config.ticket_timeout),
        store,
        config: Arc::new(config),
        nats,
        relay_wake: Arc::new(Notify::new()),
    };
    Ok(App { state, js })
}

impl Service for AppState {
    fn routes() -> Router<AppState> {
        routes::router().merge(platform::openapi::route(openapi::PATH, &openapi::openapi()))
    }

    fn readiness(&self) -> Readiness {
        Readiness::new("event-service")
            .store_of(self.store.clone(), |s| s.ping())
            .nats(self.nats.clone())
    }
}

/// Serves until Ctrl-C or SIGTERM, then stops the relay (unsent messages wait in the outbox for
/// the next start).
pub async fn run(config: EventConfig) -> anyhow::Result<()> {
    let addr = config.base.http.addr;
    let app = build(config).await?;
    platform::service::serve(addr, app.state.clone(), app.spawn_background()).await
}
