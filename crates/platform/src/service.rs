//! The life of a service process, written once: its router (the service's routes, health checks,
//! fallbacks and middleware) and serving it until Ctrl-C or SIGTERM, then stopping its background
//! work. A service says what is its own by implementing [`Service`] for its shared state.

use std::net::SocketAddr;

use axum::Router;

use crate::background::Background;
use crate::health::Readiness;

/// A service's shared state, as the process serves it.
pub trait Service: Clone + Send + Sync + 'static {
    /// The service's own routes, its OpenAPI document among them.
    fn routes() -> Router<Self>;

    /// The service's name (`/health`, metrics, logs) and the checks of what it depends on (its
    /// store, NATS) behind `/ready`.
    fn readiness(&self) -> Readiness;
}

/// The finished router: the service's routes, health checks, fallbacks and middleware.
pub fn router<S: Service>(state: S) -> Router {
    let readiness = state.readiness();
    crate::http::finish(S::routes().with_state(state), readiness)
}

/// Listens on `addr` and serves `state`'s router until Ctrl-C or SIGTERM (finishing in-flight
/// requests), then stops `background` (unacknowledged messages are redelivered, unsent ones wait
/// in the outbox for the next start).
pub async fn serve<S: Service>(
    addr: SocketAddr,
    state: S,
    background: Background,
) -> anyhow::Result<()> {
    let name = state.readiness().service();
    crate::http::run_until_shutdown(addr, name, router(state), background).await
}
