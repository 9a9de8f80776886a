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
}

impl NotificationKind {
    pub const ALL: [NotificationKind; 8] = [
        NotificationKind::OrderConfirmed,
        NotificationKind::PaymentDeclined,
        NotificationKind::HoldExpiring,
        NotificationKind::OrderCancelled,
        NotificationKind::OrderRefunded,
        NotificationKind::EventCancelled,
        NotificationKind::EventChanged,
        NotificationKind::WaitlistOffered,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::OrderConfirmed => "order_confirmed",
            NotificationKind::PaymentDeclined => "payment_declined",
            NotificationKind::HoldExpiring => "hold_expiring",
            NotificationKind::OrderCancelled => "order_cancelled",
            NotificationKind::OrderRefunded => "order_refunded",
            NotificationKind::EventCancelled => "event_cancelled",
            NotificationKind::EventChanged => "event_changed",
            NotificationKind::WaitlistOffered => "waitlist_offered",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_name() {
        for kind in NotificationKind::ALL {
            assert_eq!(NotificationKind::parse(kind.as_str()), Some(kind));
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::json!(kind.as_str())
            );
        }
    }
}
