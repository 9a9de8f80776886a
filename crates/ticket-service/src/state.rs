//! The state every handler and background task shares. It sits below the routes, the consumers
//! and the wiring, which all read it; it reads none of them.

use std::sync::Arc;

use axum::extract::FromRef;
use contracts::orders::CancelReason;
use platform::AuthClient;
use platform::metrics::{counter, names};
use tokio::sync::Notify;

use crate::catalog_client::EventClient;
use crate::config::TicketConfig;
use crate::live::Changes;
use crate::order::Order;
use crate::store::TicketStore;
use crate::waiting_room::WaitingRoom;

/// The shared state behind one pointer: every request clones it (axum's `State`), so a clone is
/// one reference count, not a copy of each client and handle.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
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
    /// On-sale queues and their passes, kept in JetStream.
    pub waiting_room: WaitingRoom,
}

impl AppState {
    /// After a command changed an order's status: its fact waits in the outbox, so the relay is
    /// woken, and the change is counted for the operator.
    pub fn order_changed(&self, order: &Order) {
        self.outbox_wake.notify_one();
        counter!(names::ORDER_TRANSITIONS,
            "to" => order.status.as_str(),
            "reason" => order.cancel_reason.map_or("", CancelReason::as_str),
        )
        .increment(1);
    }
}

impl FromRef<AppState> for AuthClient {
    fn from_ref(state: &AppState) -> AuthClient {
        state.auth.clone()
    }
}
