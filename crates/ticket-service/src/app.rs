//! Wiring: builds the state, assembles the router (routes, the OpenAPI document, health checks),
//! starts the background work (outbox relay, consumers, expiry, live availability) and serves.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, Message};
use axum::Router;
use contracts::jetstream::{ConsumerDef, TICKET_CATALOG, TICKET_PAYMENTS};
use futures::future::BoxFuture;
use platform::AuthClient;
use platform::consumer::{HandleError, Outcome};
use platform::health::Readiness;
use platform::outbox::{Relay, RelayHandle};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::catalog_client::EventClient;
use crate::config::TicketConfig;
use crate::state::AppState;
use crate::store::{self, TicketStore};

pub struct App {
    pub state: AppState,
    pub js: jetstream::Context,
}

/// Opens the configured store, connects to NATS and creates the streams.
pub async fn build(config: TicketConfig) -> anyhow::Result<App> {
    let store = store::open(&config.store).await?;
    build_with_store(config, store).await
}

pub async fn build_with_store(
    config: TicketConfig,
    store: Arc<dyn TicketStore>,
) -> anyhow::Result<App> {
    let nats = platform::nats::connect(
        &config.nats_url,
        "ticket-service",
        config.nats_connect_timeout,
    )
    .await?;
    let js = jetstream::new(nats.clone());
    platform::nats::ensure_streams(&js).await?;
    let state = AppState {
        store,
        auth: AuthClient::new(&config.auth_url, config.auth_timeout),
        events: EventClient::new(&config.event_url),
        config: Arc::new(config),
        outbox_wake: Arc::new(Notify::new()),
        cascade_wake: Arc::new(Notify::new()),
        nats,
        changes: crate::live::channel(),
    };
    Ok(App { state, js })
}

/// The finished router: routes, the OpenAPI document, health checks, fallbacks and middleware.
pub fn router(state: AppState) -> Router {
    let store = state.store.clone();
    let nats = state.nats.clone();
    let readiness = Readiness::new("ticket-service")
        .store(move || {
            let store = store.clone();
            async move { store.ping().await }
        })
        .nats(nats);
    let api = crate::routes::router()
        .merge(crate::openapi::router())
        .with_state(state);
    platform::http::finish(api, readiness)
}

type Handler = fn(&AppState, &Message) -> BoxFuture<'static, Result<Outcome, HandleError>>;

/// The service's background work; dropping it does not stop it, [`Background::stop`] does.
pub struct Background {
    relay: Option<RelayHandle>,
    tasks: Vec<JoinHandle<()>>,
}

impl Background {
    pub async fn stop(mut self) {
        for t in &self.tasks {
            t.abort();
        }
        if let Some(relay) = self.relay.take() {
            relay.stop().await;
        }
    }
}

impl App {
    /// Starts the outbox relay, both consumers, the expiry sweeper and the cancellation cascade.
    pub fn spawn_background(&self) -> Background {
        let relay = Relay::new(
            self.state.store.outbox(),
            self.js.clone(),
            self.state.outbox_wake.clone(),
        )
        .spawn();
        let tasks = vec![
            self.spawn_consumer(TICKET_PAYMENTS, |s, m| {
                let (s, m) = (s.clone(), m.clone());
                Box::pin(async move { crate::saga::handle(&s, &m).await })
            }),
            self.spawn_consumer(TICKET_CATALOG, |s, m| {
                let (s, m) = (s.clone(), m.clone());
                Box::pin(async move { crate::catalog::handle(&s, &m).await })
            }),
            tokio::spawn(crate::expiry::sweep(self.state.clone())),
            tokio::spawn(crate::cascade::sweep(self.state.clone())),
            tokio::spawn(crate::live::follow_broker(
                self.state.nats.clone(),
                self.state.changes.clone(),
            )),
        ];
        Background {
            relay: Some(relay),
            tasks,
        }
    }

    fn spawn_consumer(&self, def: ConsumerDef, handler: Handler) -> JoinHandle<()> {
        let js = self.js.clone();
        let state = self.state.clone();
        let concurrency = state.config.consumer_concurrency;
        tokio::spawn(async move {
            loop {
                let st = state.clone();
                let run = platform::consumer::run(
                    js.clone(),
                    def,
                    concurrency,
                    move |msg: Message| {
                        let st = st.clone();
                        async move {
                            let result = handler(&st, &msg).await;
                            (msg, result)
                        }
                    },
                    std::future::pending(),
                );
                if let Err(e) = run.await {
                    tracing::warn!(
                        consumer = def.name,
                        error = format!("{e:#}"),
                        "consumer stopped, restarting"
                    );
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        })
    }
}

/// Serves until Ctrl-C or SIGTERM.
pub async fn run(config: TicketConfig) -> anyhow::Result<()> {
    let addr = config.http.addr;
    let app = build(config).await?;
    let background = app.spawn_background();
    let listener = platform::http::bind(addr).await?;
    tracing::info!(%addr, "ticket service listening");
    platform::http::serve(
        listener,
        router(app.state.clone()),
        platform::shutdown::signal(),
    )
    .await?;
    background.stop().await;
    Ok(())
}
