//! The waitlist of a sold-out ticket type, as the ticket service shows it:
//! `POST/GET/DELETE /api/tickets/events/{id}/waitlist` (the caller's entries),
//! `POST /api/tickets/waitlist/{entryId}/accept` and `.../decline` (an offer), and
//! `GET /api/tickets/events/{id}/waitlist/lengths` (the organizer's count per type).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An event's waitlist is on unless its organizer turned it off (and for events from before the
/// switch existed).
pub fn on_by_default() -> bool {
    true
}

/// Where a waitlist entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum WaitlistStatus {
    /// In line for seats of its type.
    Waiting,
    /// Seats are held for it until `offerExpiresAt`.
    Offered,
    /// The offer became a pending order (`orderId`).
    Accepted,
    /// The buyer declined the offer.
    Declined,
    /// The offer ran out unanswered.
    Lapsed,
    /// The buyer left the waitlist.
    Left,
    /// The event was cancelled while the entry was waiting or offered: it ended, and an offer
    /// with it.
    EventCancelled,
}

crate::named_values!(WaitlistStatus {
    Waiting => "waiting",
    Offered => "offered",
    Accepted => "accepted",
    Declined => "declined",
    Lapsed => "lapsed",
    Left => "left",
    EventCancelled => "event_cancelled",
});

impl WaitlistStatus {
    /// Still in line or holding an offer: one such entry per buyer and ticket type.
    pub fn is_open(self) -> bool {
        matches!(self, WaitlistStatus::Waiting | WaitlistStatus::Offered)
    }
}

/// One of the caller's waitlist entries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct WaitlistEntryView {
    pub id: Uuid,
    pub event_id: Uuid,
    #[cfg_attr(feature = "openapi", schema(example = "General"))]
    pub ticket_type: String,
    #[cfg_attr(feature = "openapi", schema(example = 2))]
    pub quantity: u32,
    pub status: WaitlistStatus,
    /// 1 for the first entry still waiting for this ticket type; null unless waiting.
    #[cfg_attr(feature = "openapi", schema(required = true, example = 3))]
    pub position: Option<u32>,
    /// Until when the offered seats are held; null unless offered.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub offer_expires_at: Option<DateTime<Utc>>,
    /// The pending order the accepted offer became; null until accepted.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub order_id: Option<Uuid>,
    pub joined_at: DateTime<Utc>,
}

/// The caller's entries on one event's waitlists (open ones, then ended ones).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct WaitlistResponse {
    pub entries: Vec<WaitlistEntryView>,
}

/// The waitlist of one ticket type, as its organizer counts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct WaitlistLength {
    #[cfg_attr(feature = "openapi", schema(example = "General"))]
    pub ticket_type: String,
    /// Entries still in line.
    #[cfg_attr(feature = "openapi", schema(example = 12))]
    pub waiting: u32,
    /// Seats they ask for in all.
    #[cfg_attr(feature = "openapi", schema(example = 19))]
    pub waiting_seats: u32,
    /// Entries holding an offer right now.
    #[cfg_attr(feature = "openapi", schema(example = 1))]
    pub offered: u32,
}

/// The waitlist length per ticket type of an event (every type, in the catalogue's order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct WaitlistLengths {
    pub ticket_types: Vec<WaitlistLength>,
}
