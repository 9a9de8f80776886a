//! Facts about tickets at the door, published by the ticket service on the `TICKETS` stream. Each
//! is wrapped in an [`Envelope`](crate::Envelope) whose `type` is the subject and whose `subject`
//! is the ticket's plain code.
//!
//! | subject | data | when |
//! |---|---|---|
//! | `tickets.checked_in` | [`TicketCheckedIn`] | a scan was accepted (`ok`): the holder entered, or left with an exit scan |
//! | `tickets.waitlist_offered` | [`WaitlistOffered`] | freed seats are held for a waitlist entry until `expiresAt` (its envelope's `subject` is the entry id) |
//! | `tickets.waitlist_closed` | [`WaitlistClosed`] | the event was cancelled: a waitlist entry still waiting or offered ended, an offer's seats withdrawn (its envelope's `subject` is the entry id) |

use api_types::checkin::ScanDirection;
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One accepted scan. Only the scan answered `ok` publishes: however many scanners race on a
/// ticket, its entry is published once (and once more per re-entry after an exit scan).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TicketCheckedIn {
    pub event_id: Uuid,
    pub order_id: Uuid,
    /// The ticket's plain code (unique).
    pub code: String,
    pub ticket_type: String,
    pub direction: ScanDirection,
    /// When the scanner saw the ticket (for an upload from an offline queue, earlier than the
    /// envelope's `time`).
    pub scanned_at: DateTime<Utc>,
    pub gate: Option<String>,
    /// The user who scanned (organizer, admin or named staff).
    pub scanned_by: Uuid,
}

/// The waitlist entry a waitlist fact is about: whose place in line, for which seats.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WaitlistPlace {
    pub entry_id: Uuid,
    pub event_id: Uuid,
    /// The event's title when the buyer joined.
    pub event_title: String,
    pub user_id: Uuid,
    /// Where news of the entry is mailed: the buyer's email when they joined.
    pub email: String,
    pub first_name: String,
    pub ticket_type: String,
    pub quantity: u32,
}

/// Seats that came free (an expired hold, a cancellation, a refund, a declined or lapsed offer)
/// are held for the first waitlist entry they fit, until `expires_at`. The buyer accepts the
/// offer on the event page (it becomes a pending order) or lets it lapse to the next entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WaitlistOffered {
    #[serde(flatten)]
    pub place: WaitlistPlace,
    pub expires_at: DateTime<Utc>,
}

/// The event was cancelled, so a waitlist entry still in line ended (`event_cancelled`): once per
/// entry, in the unit that closed it. An entry that held an offer lost the seats held for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WaitlistClosed {
    #[serde(flatten)]
    pub place: WaitlistPlace,
    /// The entry held an offer (seats held for the buyer), now withdrawn; `false`: it was
    /// waiting.
    pub held_offer: bool,
}
