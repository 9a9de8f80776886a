//! What every request handler shares.

use std::sync::Arc;

use platform::AuthClient;
use tokio::sync::Notify;

use crate::config::EventConfig;
use crate::store::EventStore;
use crate::tickets::TicketClient;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn EventStore>,
    pub auth: AuthClient,
    pub tickets: TicketClient,
    pub config: Arc<EventConfig>,
    pub nats: async_nats::Client,
    /// Wakes the outbox relay after a commit that wrote to the outbox.
    pub relay_wake: Arc<Notify>,
}

platform::service_state!(AppState);
