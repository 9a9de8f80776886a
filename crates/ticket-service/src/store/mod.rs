//! The ticket store port and its adapters: SQLite (default) and MongoDB (`MONGODB_URI`).
//! Every operation that changes seats or order status is one atomic unit in the store, with the
//! outbox row it causes.

mod mongo;
mod sqlite;
mod waitlist;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use platform::StoreError;
use platform::config::StoreConfig;
use platform::money::{Currency, Money};
use platform::outbox::OutboxStore;
use uuid::Uuid;

pub use mongo::MongoStore;
pub use sqlite::SqliteStore;
pub use waitlist::{JoinResult, TypeLength, WaitlistStore};

pub use api_types::events::RefundPolicy;

pub use crate::checkin::{DoorTicket, EventTicket, Scan, Scanned, StoredKey, TicketCheckin};
use crate::error::TicketError;
pub use crate::event_status::EventStatus;
pub use crate::lifecycle::{Command, Transition};
use crate::order::{CancelReason, Order, OrderDetails};
pub use crate::sales::{OrderPage, OrderQuery, Sale};

/// What the ticket service knows of an event from the catalogue.
#[derive(Debug, Clone, PartialEq)]
pub struct EventInfo {
    pub id: Uuid,
    pub title: String,
    pub date_time: DateTime<Utc>,
    pub status: EventStatus,
    /// Grows with every catalogue change; older facts are ignored.
    pub version: u64,
    pub currency: Currency,
    pub ticket_types: Vec<TicketTypeInfo>,
    /// The organizer's user id (the catalogue's `createdBy`); `None` until a fact or the
    /// catalogue said. A store keeps the one it has when a change does not carry it.
    pub organizer_id: Option<Uuid>,
    pub refund_policy: RefundPolicy,
    /// The organizer's waitlist switch ([`crate::waitlist::Line`]).
    pub waitlist_enabled: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TicketTypeInfo {
    pub name: String,
    pub price: Money,
    pub quantity: u32,
}

/// Seats of one ticket type: `sold + held <= capacity`, always.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stock {
    pub ticket_type: String,
    pub price: Money,
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

impl EventStock {
    /// The event with its ticket types as its stock has them (capacity only ever grew).
    fn from_stock(event: EventInfo, stock: Vec<Stock>) -> Self {
        let ticket_types = stock
            .iter()
            .map(|s| TicketTypeInfo {
                name: s.ticket_type.clone(),
                price: s.price,
                quantity: s.capacity,
            })
            .collect();
        Self {
            event: EventInfo {
                ticket_types,
                ..event
            },
            stock,
        }
    }
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

/// Makes the booking from the event's stock as the store holds it at that moment, or refuses it
/// (the pure rules of [`crate::booking`]).
pub type Draft = Box<dyn FnOnce(&EventStock) -> Result<Booking, TicketError> + Send>;

/// What [`TicketStore::place`] came to.
#[derive(Debug)]
pub enum Placed {
    /// The event is not stored here yet: learn it from the catalogue, then place again.
    UnknownEvent,
    /// The idempotency key was used before; its response. Nothing was drafted.
    KeyUsed(StoredResponse),
    /// The draft refused on the stock it saw; nothing was stored.
    Refused(TicketError),
    /// The booking the draft made and what [`TicketStore::book`] made of it.
    Tried(Box<Booking>, BookResult),
}

#[async_trait]
pub trait TicketStore: WaitlistStore + Send + Sync + 'static {
    async fn event_stock(&self, event_id: Uuid) -> Result<Option<EventStock>, StoreError>;
    /// Stores the event and its ticket types unless a newer version is stored. Capacity only
    /// grows (the catalogue never reduces a published ticket type), so holds and sales stay valid.
    /// Returns whether it was applied.
    async fn apply_event(&self, info: &EventInfo) -> Result<bool, StoreError>;

    /// Places the order ([`crate::lifecycle::place`]): holds every line's seats, all or nothing,
    /// and stores the order, its `orders.created` outbox row and the idempotency record in the
    /// same atomic unit. The event must still be on sale inside that unit, so a cancellation
    /// that lands meanwhile is never missed.
    async fn book(&self, booking: &Booking) -> Result<BookResult, StoreError>;

    /// A whole booking in one call: the stored answer under `key` (user, key) if there is one;
    /// else the event's stock, the booking `draft` makes of it, and [`TicketStore::book`]. This
    /// default takes one store call per step; a store that can run them as one unit does.
    async fn place(
        &self,
        event_id: Uuid,
        key: Option<(Uuid, &str)>,
        draft: Draft,
    ) -> Result<Placed, StoreError> {
        if let Some((user_id, key)) = key
            && let Some(stored) = self.idempotent_response(user_id, key).await?
        {
            return Ok(Placed::KeyUsed(stored));
        }
        let Some(stock) = self.event_stock(event_id).await? else {
            return Ok(Placed::UnknownEvent);
        };
        let booking = match draft(&stock) {
            Ok(booking) => booking,
            Err(refused) => return Ok(Placed::Refused(refused)),
        };
        let result = self.book(&booking).await?;
        Ok(Placed::Tried(Box::new(booking), result))
    }
    async fn idempotent_response(
        &self,
        user_id: Uuid,
        key: &str,
    ) -> Result<Option<StoredResponse>, StoreError>;

    async fn order(&self, id: Uuid) -> Result<Option<OrderDetails>, StoreError>;
    /// Newest first.
    async fn orders_of_user(&self, user_id: Uuid) -> Result<Vec<Order>, StoreError>;

    /// Runs `command` on the order in one atomic unit: reads it, decides by
    /// [`crate::lifecycle::decide`] and writes the decision (order, seats, tickets, payment
    /// attempt, outbox rows) with conditional updates, so racing commands apply exactly once.
    /// `message` is the id of the consumed fact that caused it: recorded in the same unit, and
    /// when it was recorded before nothing happens ([`Transition::Duplicate`]).
    async fn apply(
        &self,
        order_id: Uuid,
        command: &Command,
        message: Option<Uuid>,
        traceparent: Option<&str>,
    ) -> Result<Transition, StoreError>;

    /// Runs `command` on every order of `order_ids`, each as [`TicketStore::apply`] would (an
    /// order that cannot take it is left alone), all in one atomic unit. The transitions, in the
    /// order of `order_ids`.
    async fn apply_batch(
        &self,
        order_ids: &[Uuid],
        command: &Command,
        traceparent: Option<&str>,
    ) -> Result<Vec<Transition>, StoreError>;

    /// [`Command::Cancel`]: ends the order for `reason` (see [`crate::lifecycle::may_end`]),
    /// releasing its seats, with `orders.cancelled` in the outbox.
    async fn cancel(
        &self,
        order_id: Uuid,
        reason: CancelReason,
        traceparent: Option<&str>,
    ) -> Result<Transition, StoreError> {
        self.apply(order_id, &Command::Cancel(reason), None, traceparent)
            .await
    }

    /// Pending orders whose hold ended at or before `now`, oldest first.
    async fn due_for_expiry(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Uuid>, StoreError>;
    /// Up to `limit` orders still pending or confirmed of events that are cancelled: what the
    /// cancellation cascade still has to end.
    async fn orders_to_cascade(&self, limit: usize) -> Result<Vec<Uuid>, StoreError>;

    /// The page of the event's orders `query` asks for, newest first, and how many it finds.
    async fn orders_of_event(
        &self,
        event_id: Uuid,
        query: &OrderQuery,
    ) -> Result<OrderPage, StoreError>;
    /// Every ticket of the event, void ones too, in booking order (then ticket order).
    async fn tickets_of_event(&self, event_id: Uuid) -> Result<Vec<EventTicket>, StoreError>;
    /// Every order of the event as the summary counts it ([`crate::summary::summarize`]).
    async fn sales_of_event(&self, event_id: Uuid) -> Result<Vec<Sale>, StoreError>;

    /// The event's signing keys, oldest first; none until [`TicketStore::ensure_event_key`].
    async fn event_keys(&self, event_id: Uuid) -> Result<Vec<StoredKey>, StoreError>;
    /// The event's keys, creating version 1 from `secret` when it has none. Two callers racing
    /// on a new event both get the one key that was stored (an insert that cannot create two).
    async fn ensure_event_key(
        &self,
        event_id: Uuid,
        secret: [u8; 32],
    ) -> Result<Vec<StoredKey>, StoreError>;

    /// Stores the event's check-in staff (lower-cased emails) unless a newer or equal
    /// `staff_version` is stored; returns whether it was applied.
    async fn apply_staff(
        &self,
        event_id: Uuid,
        staff_version: u64,
        staff: &[String],
    ) -> Result<bool, StoreError>;
    /// The event's check-in staff, empty when none were named.
    async fn event_staff(&self, event_id: Uuid) -> Result<Vec<String>, StoreError>;

    /// Runs one scan in one atomic unit: a nonce seen before for the event replays its stored
    /// answer ([`Scanned::Replayed`], also when a racing scan with the nonce committed first);
    /// otherwise reads the ticket with its order and check-in and the event's counter, decides
    /// by [`crate::checkin::decide`] and writes the decision with conditional writes, the nonce
    /// with its answer and the `tickets.checked_in` outbox row ([`Scanned::Decided`]).
    async fn scan(&self, scan: &Scan) -> Result<Scanned, StoreError>;

    /// Forgets processed event ids and scan nonces (with their answers) recorded before
    /// `processed_before` and idempotency keys stored before `keys_before`; returns how many
    /// rows went.
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
