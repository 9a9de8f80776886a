//! The waitlist's part of the store port ([`crate::waitlist`] decides, the adapters write).
//! Every ticket store is a waitlist store ([`super::TicketStore`] requires it); offers for seats
//! an order gives back are made inside [`super::TicketStore::apply`] and `apply_batch` as well.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use platform::StoreError;
use uuid::Uuid;

pub use crate::waitlist::{Entry, EntryCommand, EntryOutcome};

/// What joining did.
#[derive(Debug, Clone, PartialEq)]
pub enum JoinResult {
    /// A new entry, waiting; its 1-based position.
    Joined(Entry, u32),
    /// The buyer has an open entry for this type already: that one (and its position, when
    /// waiting). Nothing changed.
    AlreadyIn(Entry, Option<u32>),
    /// Enough seats are on sale: book them instead.
    NotSoldOut { available: u32 },
    /// The event has no such ticket type, or is not on sale (cancelled, draft, unknown).
    NotOnSale,
    /// The organizer turned the event's waitlist off.
    Off,
}

/// One ticket type's line, as the organizer counts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeLength {
    pub ticket_type: String,
    pub waiting: u32,
    pub waiting_seats: u32,
    pub offered: u32,
}

#[async_trait]
pub trait WaitlistStore: Send + Sync {
    /// Adds `entry` (waiting) to its type's line in one atomic unit: only while the event is on
    /// sale with its waitlist on ([`crate::waitlist::Line`]), fewer than `entry.quantity` seats are available, and the buyer has no open entry
    /// for the type (a unique index decides a race between two joins).
    async fn join_waitlist(&self, entry: &Entry) -> Result<JoinResult, StoreError>;
    async fn waitlist_entry(&self, id: Uuid) -> Result<Option<Entry>, StoreError>;
    /// The user's entries on the event, open ones first, each with its position when waiting.
    async fn waitlist_of_user(
        &self,
        event_id: Uuid,
        user_id: Uuid,
    ) -> Result<Vec<(Entry, Option<u32>)>, StoreError>;
    /// Runs `command` on the entry in one atomic unit: reads it, decides by
    /// [`crate::waitlist::decide`] and writes the decision with conditional updates (the entry
    /// only while it has the status it was read in, with the decision's facts, e.g. a close's
    /// `tickets.waitlist_closed`; an accepted offer's order with its `orders.created` row). Seats
    /// it gives back are offered to the next entries in the same unit.
    async fn settle_entry(
        &self,
        entry_id: Uuid,
        command: &EntryCommand,
        traceparent: Option<&str>,
    ) -> Result<EntryOutcome, StoreError>;
    /// Offered entries whose offer ran out at or before `now`, oldest first.
    async fn offers_due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Uuid>, StoreError>;
    /// Up to `limit` entries still waiting or offered of events that are cancelled: what the
    /// cancellation cascade still has to close ([`EntryCommand::Close`]).
    async fn entries_to_close(&self, limit: usize) -> Result<Vec<Uuid>, StoreError>;
    /// Every ticket type of the event with its waiting and offered entries.
    async fn waitlist_lengths(&self, event_id: Uuid) -> Result<Vec<TypeLength>, StoreError>;
}
