//! Wiring: state, router, background work (outbox relay, order consumer, maintenance) and the
//! server.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use axum::Router;
use axum::extract::FromRef;
use platform::AuthClient;
use platform::health::Readiness;
use platform::outbox::{Relay, RelayHandle};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::config::PaymentConfig;
use crate::gateway::Gateway;
use crate::orders::TicketClient;
use crate::store::{self, PaymentStore};

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn PaymentStore>,
    pub auth: AuthClient,
    pub config: Arc<PaymentConfig>,
    pub nats: async_nats::Client,
    pub js: jetstream::Context,
    /// Wakes the outbox relay after a commit that wrote to the outbox.
    pub relay_wake: Arc<Notify>,
    pub gateway: Arc<Gateway>,
    pub tickets: TicketClient,
}

impl AppState {
    pub fn wake_relay(&self) {
        self.relay_wake.notify_one();
    }
}

impl FromRef<AppState> for AuthClient {
    fn from_ref(state: &AppState) -> AuthClient {
        state.auth.clone()
    }
}

pub struct App {
    pub state: AppState,
    /// The running outbox relay; stopping or dropping it stops publishing.
    pub relay: RelayHandle,
}

/// Connects to NATS, opens the configured store and prepares the service (streams, relay).
pub async fn build(config: PaymentConfig) -> anyhow::Result<App> {
    let nats = platform::nats::connect(
        &config.nats_url,
        "payment-service",
        config.nats_connect_timeout,
    )
    .await?;
    let store = store::open(&config.store).await?;
    build_with(config, store, nats).await
}

/// Like [`build`] with a given store and NATS connection (tests).
pub async fn build_with(
    config: PaymentConfig,
    store: Arc<dyn PaymentStore>,
    nats: async_nats::Client,
) -> anyhow::Result<App> {
    let js = jetstream::new(nats.clone());
    platform::nats::ensure_streams(&js).await?;
    let relay_wake = Arc::new(Notify::new());
    let relay = Relay::new(store.outbox(), js.clone(), relay_wake.clone()).spawn();
    let state = AppState {
        auth: AuthClient::new(&config.auth_url, config.auth_timeout),
        tickets: TicketClient::new(&config.ticket_url, config.ticket_timeout, config.currency),
        gateway: Arc::new(Gateway::new(config.success_rate)),
        store,
        config: Arc::new(config),
        nats,
        js,
        relay_wake,
    };
    Ok(App { state, relay })
}

/// The finished router: routes, health checks, fallbacks and middleware.
pub fn router(state: AppState) -> Router {
    let store = state.store.clone();
    let nats = state.nats.clone();
    let readiness = Readiness::new("payment-service")
        .store(move || {
            let store = store.clone();
            async move { store.ping().await }
        })
        .nats(nats);
    platform::http::finish(crate::routes::routes().with_state(state), readiness)
}

/// The background tasks besides the relay: the `payment-orders` consumer and the maintenance
/// sweep. Stopped with [`Workers::stop`]; dropped, they run until the runtime ends.
pub struct Workers {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Workers {
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Starts consuming `orders.>` and the maintenance sweep.
pub fn start_workers(state: &AppState) -> Workers {
    let (stop, rx) = watch::channel(false);
    let tasks = vec![
        tokio::spawn(consume_orders(state.clone(), rx.clone())),
        tokio::spawn(maintain(state.clone(), rx)),
    ];
    Workers { stop, tasks }
}

/// Runs the consumer, starting it again if it fails (e.g. NATS was away when it was created).
async fn consume_orders(state: AppState, stop: watch::Receiver<bool>) {
    while !*stop.borrow() {
        let handler_state = state.clone();
        let handler = move |msg: jetstream::Message| {
            let state = handler_state.clone();
            async move {
                let result = crate::consumer::handle(&state, &msg).await;
                (msg, result)
            }
        };
        let result = platform::consumer::run(
            state.js.clone(),
            contracts::jetstream::PAYMENT_ORDERS,
            state.config.consumer_concurrency,
            handler,
            stopped(stop.clone()),
        )
        .await;
        match result {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "order consumer stopped, restarting");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = stopped(stop.clone()) => return,
                }
            }
        }
    }
}

/// Every few seconds: fails payments a dead process left unfinished, and deletes idempotency
/// keys past their TTL.
async fn maintain(state: AppState, stop: watch::Receiver<bool>) {
    let every = state
        .config
        .stale_after
        .clamp(Duration::from_millis(100), Duration::from_secs(10));
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stopped(stop.clone()) => return,
        }
        if let Err(e) = sweep(&state).await {
            tracing::warn!(error = %platform::error::ErrorChain(&e), "maintenance sweep failed");
        }
    }
}

/// One maintenance pass; returns how many stale payments were failed.
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

/// Serves until Ctrl-C or SIGTERM, then stops the workers and the relay (unsent messages wait in
/// the outbox for the next start; unacknowledged order events are redelivered).
pub async fn run(config: PaymentConfig) -> anyhow::Result<()> {
    let addr = config.http.addr;
    let app = build(config).await?;
    let workers = start_workers(&app.state);
    let listener = platform::http::bind(addr).await?;
    tracing::info!(%addr, "payment service listening");
    platform::http::serve(listener, router(app.state), platform::shutdown::signal()).await?;
    workers.stop().await;
    app.relay.stop().await;
    Ok(())
}
