//! What every request handler and background task shares.

use std::sync::Arc;

use async_nats::jetstream;
use platform::AuthClient;
use tokio::sync::Notify;

use crate::arrivals::OrderArrivals;
use crate::config::PaymentConfig;
use crate::gateway::Gateway;
use crate::orders::TicketClient;
use crate::store::PaymentStore;

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
    /// Payments waiting for their order's `orders.created`, woken by the order consumer.
    pub arrivals: Arc<OrderArrivals>,
}

platform::service_state!(AppState);
