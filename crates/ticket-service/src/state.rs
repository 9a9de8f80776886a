//! The state every handler and background task shares. It sits below the routes, the consumers
//! and the wiring, which all read it; it reads none of them.

use std::sync::Arc;

use axum::extract::FromRef;
use platform::AuthClient;
use tokio::sync::Notify;

use crate::catalog_client::EventClient;
use crate::config::TicketConfig;
use crate::live::Changes;
use crate::store::TicketStore;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn TicketStore>,
    pub config: Arc<TicketConfig>,
    pub auth: AuthClient,
    pub events: EventClient,
    /// Wakes the outbox relay right after a commit, so events leave within milliseconds.
    pub outbox_wake: Arc<Notify>,
    /// Wakes the cancellation cascade when an event is cancelled.
    pub cascade_wake: Arc<Notify>,
    pub nats: async_nats::Client,
    /// Event ids whose stock changed, for live availability.
    pub changes: Changes,
}

impl FromRef<AppState> for AuthClient {
    fn from_ref(state: &AppState) -> AuthClient {
        state.auth.clone()
    }
}
