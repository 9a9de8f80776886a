//! Wiring: the service's parts, the router, background work (the three consumers and the
//! sweep) and the server.

use std::sync::Arc;

use axum::Router;
use contracts::jetstream::{
    NOTIFICATION_CATALOG, NOTIFICATION_ORDERS, NOTIFICATION_PAYMENTS, NOTIFICATION_TICKETS,
};
use platform::AuthClient;
use platform::background::Background;
use platform::health::Readiness;
use platform::service::Service;

use crate::config::NotificationConfig;
use crate::mailer::Mailer;
use crate::state::AppState;
use crate::store::{self, NotificationStore};
use crate::{openapi, reminders, routes};

/// Facts in flight per consumer. Those of one order or event are still planned one at a time in
/// stream order, against a projection the previous one already updated (the consumer runner
/// keeps that order); facts of different orders share the database's group commit, which is how
/// the service keeps up with a burst of bookings.
const CONSUMER_CONCURRENCY: usize = 16;

pub struct App {
    pub state: AppState,
}

impl App {
    /// Starts the consumers of `orders.>`, `payments.>`, `catalog.events.>` and
    /// `tickets.waitlist_offered` / `tickets.waitlist_closed` and the sweep;
    /// [`Background::stop`] (or dropping it) stops them. Unacknowledged facts are redelivered.
    pub fn spawn_background(&self) -> Background {
        let state = &self.state;
        let mut background = Background::new();
        for def in [
            NOTIFICATION_CATALOG,
            NOTIFICATION_ORDERS,
            NOTIFICATION_PAYMENTS,
            NOTIFICATION_TICKETS,
        ] {
            background = background.consumer(
                state.js.clone(),
                def,
                CONSUMER_CONCURRENCY,
                state.clone(),
                |s, m| Box::pin(crate::consumer::handle(s, m)),
            );
        }
        background.every(
            "reminders and unsent mails",
            state.config.sweep_every,
            state.clone(),
            |s| Box::pin(reminders::sweep(s)),
        )
    }
}

/// Connects to NATS, opens the configured store and the mail transport, prepares the streams.
pub async fn build(config: NotificationConfig) -> anyhow::Result<App> {
    let nats = platform::nats::connect_to(&config.links, "notification-service").await?;
    let store = store::open(&config.base.store).await?;
    build_with(config, store, nats).await
}

/// Like [`build`] with a given store and NATS connection (tests).
pub async fn build_with(
    config: NotificationConfig,
    store: Arc<dyn NotificationStore>,
    nats: async_nats::Client,
) -> anyhow::Result<App> {
    let js = platform::nats::jetstream_with_streams(nats.clone()).await?;
    let mailer = Mailer::new(
        config.smtp_url.as_deref(),
        &config.mail_dir,
        config.smtp_timeout,
    )?;
    tracing::info!(to = %mailer.describe(), "mail goes out as");
    let state = AppState {
        auth: AuthClient::from_links(&config.links).following_sessions(nats.clone()),
        store,
        config: Arc::new(config),
        nats,
        js,
        mailer,
    };
    Ok(App { state })
}

impl Service for AppState {
    fn routes() -> Router<AppState> {
        routes::router().merge(platform::openapi::route(openapi::PATH, &openapi::openapi()))
    }

    fn readiness(&self) -> Readiness {
        Readiness::new("notification-service")
            .store_of(self.store.clone(), |s| s.ping())
            .nats(self.nats.clone())
    }
}

/// Serves until Ctrl-C or SIGTERM, then stops the background work.
pub async fn run(config: NotificationConfig) -> anyhow::Result<()> {
    let addr = config.base.http.addr;
    let app = build(config).await?;
    platform::service::serve(addr, app.state.clone(), app.spawn_background()).await
}
