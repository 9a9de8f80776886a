//! The mails the notification service sent to someone, as `GET /api/notifications/mine` lists
//! them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a mail is about: one kind per template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// Paid: the booking reference, one QR code per ticket and a calendar file.
    OrderConfirmed,
    /// A payment was declined; the seats stay held until the hold's deadline.
    PaymentDeclined,
    /// The hold ends in a few minutes and the order is still unpaid.
    HoldExpiring,
    /// The order ended without (or after) a sale: expired, cancelled, declined too often.
    OrderCancelled,
    /// The money of a paid order went back.
    OrderRefunded,
    /// The event of the recipient's tickets was cancelled.
    EventCancelled,
    /// The event of the recipient's tickets moved to another date or venue.
    EventChanged,
    /// Seats came free and are held for the recipient's waitlist entry until a deadline.
    WaitlistOffered,
    /// The event was cancelled: the recipient's waitlist entry ended, with the seats held for
    /// it if it had an offer.
    WaitlistClosed,
}

crate::named_values!(NotificationKind {
    OrderConfirmed => "order_confirmed",
    PaymentDeclined => "payment_declined",
    HoldExpiring => "hold_expiring",
    OrderCancelled => "order_cancelled",
    OrderRefunded => "order_refunded",
    EventCancelled => "event_cancelled",
    EventChanged => "event_changed",
    WaitlistOffered => "waitlist_offered",
    WaitlistClosed => "waitlist_closed",
});

/// One mail sent to the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NotificationView {
    pub kind: NotificationKind,
    pub subject: String,
    /// The address it went to.
    pub recipient: String,
    pub sent_at: DateTime<Utc>,
}

/// `{"notifications": [...]}`, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationsResponse {
    pub notifications: Vec<NotificationView>,
}
