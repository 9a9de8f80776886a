//! The waiting room of an on-sale: when an event's sale opens (`onSaleAt`), whether visitors
//! queue for it (`queue`), and a visitor's place in that queue.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// When booking opens and whether visitors wait in a queue for it. Part of an event (flattened:
/// `onSaleAt` and `queue` sit beside the event's other fields). Left out: on sale at once, no
/// queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct SaleStart {
    /// Booking opens at this moment; null: on sale as soon as published.
    #[serde(default)]
    pub on_sale_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub queue: QueueSettings,
}

/// The waiting room: visitors who arrive before `onSaleAt` get a random place among all early
/// arrivals, later ones queue behind in arrival order, and `admitPerMinute` of them are let in
/// per minute from `onSaleAt`. Needs `onSaleAt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct QueueSettings {
    pub enabled: bool,
    /// Visitors admitted per minute, 1 to 100000.
    #[cfg_attr(
        feature = "openapi",
        schema(minimum = 1, maximum = 100_000, example = 100)
    )]
    pub admit_per_minute: u32,
}

impl QueueSettings {
    pub const DEFAULT_ADMIT_PER_MINUTE: u32 = 100;
}

impl Default for QueueSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            admit_per_minute: Self::DEFAULT_ADMIT_PER_MINUTE,
        }
    }
}

impl SaleStart {
    /// Whether booking needs a queue pass: the queue is on and there is a moment it counts from.
    pub fn queued(&self) -> Option<(DateTime<Utc>, u32)> {
        match (self.on_sale_at, self.queue) {
            (
                Some(at),
                QueueSettings {
                    enabled: true,
                    admit_per_minute,
                },
            ) => Some((at, admit_per_minute.max(1))),
            _ => None,
        }
    }
}

/// The caller's place in an event's waiting room (`GET`/`POST /api/tickets/events/:id/queue`,
/// and every event of its live stream).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct QueueStatus {
    /// 1 is the first in line; null for an early arrival until the early places are drawn
    /// (shortly after `onSaleAt`).
    #[cfg_attr(feature = "openapi", schema(required = true, example = 42))]
    pub position: Option<u64>,
    /// Seconds until this place is admitted at the configured rate (0 once admitted); null while
    /// the position is not known.
    #[cfg_attr(feature = "openapi", schema(required = true, example = 25))]
    pub estimated_wait_secs: Option<u64>,
    pub admitted: bool,
    /// Once admitted: the signed pass `POST /api/tickets/book` wants in its `Queue-Pass` header.
    /// Good for one booking, until `passExpiresAt`; asking again gives a fresh one for the same
    /// booking.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub pass: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub pass_expires_at: Option<DateTime<Utc>>,
    pub on_sale_at: DateTime<Utc>,
    /// Visitors admitted so far (every place up to this one).
    pub admitted_so_far: u64,
    pub joined_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_without_sale_settings_is_on_sale_at_once_without_a_queue() {
        let s: SaleStart = serde_json::from_value(serde_json::json!({})).unwrap();
        assert_eq!(s, SaleStart::default());
        assert_eq!(s.queued(), None);
        assert_eq!(s.queue.admit_per_minute, 100);
    }

    #[test]
    fn a_queue_needs_its_opening_moment() {
        let at = "2030-01-01T10:00:00Z".parse().unwrap();
        let on = QueueSettings {
            enabled: true,
            admit_per_minute: 60,
        };
        let without = SaleStart {
            on_sale_at: None,
            queue: on,
        };
        assert_eq!(without.queued(), None);
        let with = SaleStart {
            on_sale_at: Some(at),
            queue: on,
        };
        assert_eq!(with.queued(), Some((at, 60)));
        let v = serde_json::to_value(with).unwrap();
        assert_eq!(v["onSaleAt"], "2030-01-01T10:00:00Z");
        assert_eq!(v["queue"]["admitPerMinute"], 60);
    }
}
