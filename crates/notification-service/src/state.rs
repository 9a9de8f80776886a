//! What every request handler and background task shares.

use std::sync::Arc;

use async_nats::jetstream;
use platform::AuthClient;

use crate::config::NotificationConfig;
use crate::mailer::Mailer;
use crate::store::NotificationStore;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn NotificationStore>,
    pub auth: AuthClient,
    pub config: Arc<NotificationConfig>,
    pub nats: async_nats::Client,
    pub js: jetstream::Context,
    pub mailer: Mailer,
}

platform::service_state!(AppState, without_outbox);
