//! What the service keeps: its projection of events and orders (built only from facts), and the
//! mails the facts cause, each keyed by (fact id, recipient).

use api_types::notifications::NotificationKind;
use chrono::{DateTime, Utc};
use contracts::catalog::Price;
use contracts::orders::{CancelReason, OrderCustomer, OrderLine, OrderTicket};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An event as the catalogue last described it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventRecord {
    pub id: Uuid,
    /// The catalogue's version; an older fact never replaces a newer one.
    pub version: u64,
    pub title: String,
    pub date_time: DateTime<Utc>,
    /// Minutes.
    pub duration: u32,
    pub venue_name: String,
    pub venue_city: String,
    pub cancelled: bool,
}

impl EventRecord {
    /// Whether a buyer would want to hear about the change from `self` to `next`.
    pub fn moved(&self, next: &EventRecord) -> bool {
        self.date_time != next.date_time
            || self.venue_name != next.venue_name
            || self.venue_city != next.venue_city
    }
}

/// The projection moves an order `pending -> confirmed | cancelled` as the facts say; a refund
/// is a mail of its own, so `refunded` is never stored here.
pub use api_types::orders::OrderStatus;

/// An order as `orders.*` facts told it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderRecord {
    pub id: Uuid,
    pub user_id: Uuid,
    pub event_id: Uuid,
    pub booking_reference: String,
    /// `None` for orders booked before facts carried the buyer.
    pub customer: Option<OrderCustomer>,
    pub lines: Vec<OrderLine>,
    pub total: Price,
    pub expires_at: DateTime<Utc>,
    pub status: OrderStatus,
    pub cancel_reason: Option<CancelReason>,
    /// Ever confirmed: its buyer holds (or held, until a refund) tickets for the event.
    pub paid: bool,
}

impl OrderRecord {
    /// Whether its buyer is told about the event's cancellation: a paid order, still confirmed or
    /// cancelled because the event was.
    pub fn holds_tickets_of_cancelled_event(&self) -> bool {
        self.paid
            && (self.status == OrderStatus::Confirmed
                || self.cancel_reason == Some(CancelReason::EventCancelled))
    }
}

/// A mail's place in its life: recorded, being sent (claimed at), sent, or given up on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailState {
    Pending,
    Sending { claimed_at: DateTime<Utc> },
    Sent { at: DateTime<Utc>, subject: String },
    Failed { reason: String },
}

impl MailState {
    pub fn name(&self) -> &'static str {
        match self {
            MailState::Pending => "pending",
            MailState::Sending { .. } => "sending",
            MailState::Sent { .. } => "sent",
            MailState::Failed { .. } => "failed",
        }
    }
}

/// Identifies a mail: exactly one per (fact, recipient).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MailKey {
    /// The envelope id of the fact, or a synthetic id for mails no fact causes
    /// (`hold-reminder:<order id>`).
    pub fact_id: String,
    /// The lower-cased address.
    pub recipient: String,
}

/// A mail the service owes someone.
#[derive(Debug, Clone, PartialEq)]
pub struct Mail {
    pub key: MailKey,
    pub user_id: Uuid,
    pub kind: NotificationKind,
    /// Everything its template needs, fixed when the fact was recorded.
    pub letter: Letter,
    pub state: MailState,
    pub created_at: DateTime<Utc>,
}

/// The facts a template writes out; what a kind does not use stays empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Letter {
    /// "Ada Lovelace".
    pub name: String,
    pub first_name: String,
    pub event: Option<EventRecord>,
    /// The event as it was before a change.
    pub previous: Option<EventRecord>,
    /// Booking references the mail is about (an event's notice names all of the recipient's).
    pub booking_references: Vec<String>,
    pub order_id: Option<Uuid>,
    pub lines: Vec<OrderLine>,
    pub total: Option<Price>,
    pub tickets: Vec<OrderTicket>,
    /// When the hold ends (declines, reminders).
    pub expires_at: Option<DateTime<Utc>>,
    pub cancel_reason: Option<CancelReason>,
    /// A refund's amount, or a declined payment's.
    pub amount: Option<Price>,
    /// The gateway's words for a decline.
    pub decline_message: Option<String>,
    /// A waitlist offer: the event's title as the entry knew it, and the seats held.
    pub event_title: Option<String>,
    pub ticket_type: Option<String>,
    pub quantity: Option<u32>,
    /// A closed waitlist entry held an offer: the seats held for the recipient are withdrawn.
    #[serde(default)]
    pub offer_withdrawn: bool,
}

/// A fact folded in once: the projection changes and the mails it causes, stored together.
#[derive(Debug, Clone)]
pub struct FactRecord {
    pub fact_id: String,
    pub subject: String,
    pub at: DateTime<Utc>,
    /// Stored unless a newer version is there already.
    pub event: Option<EventRecord>,
    /// Stored as it is (facts of one order arrive in order; see `crate::consumer`).
    pub order: Option<OrderRecord>,
    pub mails: Vec<Mail>,
}

/// What [`crate::store::NotificationStore::record`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    Applied,
    /// The fact id was recorded before: nothing changed (its mails may still be unsent).
    Duplicate,
}
