//! The ticket store port and its adapters: SQLite (default) and MongoDB (`MONGODB_URI`).
//! Every operation that changes seats or order status is one atomic unit in the store, with the
//! outbox row it causes.

mod mongo;
mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use contracts::orders::CancelReason;
use platform::StoreError;
use platform::config::StoreConfig;
use platform::outbox::OutboxStore;
use uuid::Uuid;

pub use mongo::MongoStore;
pub use sqlite::SqliteStore;

use crate::order::{Order, OrderDetails, PaymentAttempt};

/// What the ticket service knows of an event from the catalogue.
#[derive(Debug, Clone, PartialEq)]
pub struct EventInfo {
    pub id: Uuid,
    pub title: String,
    pub date_time: DateTime<Utc>,
    /// `published`, `cancelled` (or `draft`, never bookable).
    pub status: String,
    /// Grows with every catalogue change; older facts are ignored.
    pub version: u64,
    pub currency: String,
    pub ticket_types: Vec<TicketTypeInfo>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TicketTypeInfo {
    pub name: String,
    pub price: i64,
    pub quantity: u32,
}

/// Seats of one ticket type: `sold + held <= capacity`, always.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stock {
    pub ticket_type: String,
    pub price: i64,
    pub capacity: u32,
    pub sold: u32,
    pub held: u32,
}

impl Stock {
    pub fn available(&self) -> u32 {
        self.capacity.saturating_sub(self.sold + self.held)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventStock {
    pub event: EventInfo,
    /// In the catalogue's order.
    pub stock: Vec<Stock>,
}

/// A response stored under an `Idempotency-Key`, replayed for a retry of the same request.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResponse {
    pub request_hash: String,
    pub status: u16,
    pub body: String,
}

#[derive(Debug, Clone)]
pub struct IdempotencyRecord {
    pub user_id: Uuid,
    pub key: String,
    pub response: StoredResponse,
}

/// A new pending order, to be stored with its seat holds in one atomic unit.
#[derive(Debug, Clone)]
pub struct Booking {
    pub order: Order,
    pub idempotency: Option<IdempotencyRecord>,
    pub traceparent: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum BookResult {
    Booked,
    /// Nothing was reserved: this line could not be served.
    SoldOut {
        ticket_type: String,
        available: u32,
    },
    /// The event stopped selling (cancelled) since the caller looked; nothing was reserved.
    EventClosed,
    /// The booking reference exists already; try another.
    ReferenceTaken,
    /// The idempotency key was used before; its response.
    KeyUsed(StoredResponse),
}

/// The result of a conditional status change.
#[derive(Debug, Clone, PartialEq)]
pub enum Transition {
    Applied(Order),
    /// The order had left `pending` already; nothing changed.
    NotPending(Order),
    NotFound,
    /// This message was processed before; nothing changed.
    Duplicate,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FailureResult {
    /// The attempt is on the order, which stays pending; `failures` so far.
    Recorded {
        failures: u32,
    },
    /// That was the last allowed failure: the order is cancelled (`payment_failed`).
    Cancelled(Order),
    NotPending(Order),
    NotFound,
    Duplicate,
}

#[async_trait]
pub trait TicketStore: Send + Sync + 'static {
    async fn event_stock(&self, event_id: Uuid) -> Result<Option<EventStock>, StoreError>;
    /// Stores the event and its ticket types unless a newer version is stored. Capacity only
    /// grows (the catalogue never reduces a published ticket type), so holds and sales stay valid.
    /// Returns whether it was applied.
    async fn apply_event(&self, info: &EventInfo) -> Result<bool, StoreError>;

    /// Holds every line's seats, all or nothing, and stores the order, its `orders.created`
    /// outbox row and the idempotency record in the same atomic unit. The event must still be
    /// published inside that unit, so a cancellation that lands meanwhile is never missed.
    async fn book(&self, booking: &Booking) -> Result<BookResult, StoreError>;
    async fn idempotent_response(
        &self,
        user_id: Uuid,
        key: &str,
    ) -> Result<Option<StoredResponse>, StoreError>;

    async fn order(&self, id: Uuid) -> Result<Option<OrderDetails>, StoreError>;
    /// Newest first.
    async fn orders_of_user(&self, user_id: Uuid) -> Result<Vec<Order>, StoreError>;

    /// `pending -> cancelled`, seats released, `orders.cancelled` in the outbox.
    async fn cancel(
        &self,
        order_id: Uuid,
        reason: CancelReason,
        traceparent: Option<&str>,
    ) -> Result<Transition, StoreError>;
    /// `pending -> confirmed`, held seats sold, one ticket per seat, `orders.confirmed` in the
    /// outbox; `processed` is the payment event's id, recorded in the same unit.
    async fn confirm(
        &self,
        order_id: Uuid,
        payment: &PaymentAttempt,
        processed: Uuid,
        traceparent: Option<&str>,
    ) -> Result<Transition, StoreError>;
    /// Records a declined payment; cancels the order at `max_failures`.
    async fn record_payment_failure(
        &self,
        order_id: Uuid,
        payment: &PaymentAttempt,
        max_failures: u32,
        processed: Uuid,
        traceparent: Option<&str>,
    ) -> Result<FailureResult, StoreError>;
    /// Notes a payment fact that changes no state (a refund); false when seen before.
    async fn record_payment_note(
        &self,
        order_id: Uuid,
        payment: &PaymentAttempt,
        processed: Uuid,
    ) -> Result<bool, StoreError>;

    /// Pending orders whose hold ended at or before `now`, oldest first.
    async fn due_for_expiry(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Uuid>, StoreError>;
    async fn pending_of_event(&self, event_id: Uuid) -> Result<Vec<Uuid>, StoreError>;

    /// Forgets processed event ids recorded before `processed_before` and idempotency keys
    /// stored before `keys_before`; returns how many rows went.
    async fn purge_bookkeeping(
        &self,
        processed_before: DateTime<Utc>,
        keys_before: DateTime<Utc>,
    ) -> Result<u64, StoreError>;

    fn outbox(&self) -> Arc<dyn OutboxStore>;
    async fn ping(&self) -> Result<(), StoreError>;
}

/// Opens the store the configuration names.
pub async fn open(config: &StoreConfig) -> anyhow::Result<Arc<dyn TicketStore>> {
    Ok(match config {
        StoreConfig::Sqlite { path } => Arc::new(SqliteStore::open(path)?),
        StoreConfig::Mongo { uri, database } => Arc::new(MongoStore::connect(uri, database).await?),
    })
}
