//! The event catalogue as the event service shows it: the seed's camelCase fields, prices as JSON
//! numbers (`25.5`) with their exact minor units beside them, and the refund policy.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The documented list; any case is accepted on input, this spelling is stored and returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Category {
    Music,
    Sports,
    Theater,
    Comedy,
    Conference,
    Workshop,
    Festival,
    Other,
}

impl Category {
    pub const ALL: [Category; 8] = [
        Category::Music,
        Category::Sports,
        Category::Theater,
        Category::Comedy,
        Category::Conference,
        Category::Workshop,
        Category::Festival,
        Category::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Music => "Music",
            Category::Sports => "Sports",
            Category::Theater => "Theater",
            Category::Comedy => "Comedy",
            Category::Conference => "Conference",
            Category::Workshop => "Workshop",
            Category::Festival => "Festival",
            Category::Other => "Other",
        }
    }

    /// Any case, surrounding spaces ignored.
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        Self::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(raw))
    }

    /// "Music, Sports, ..." for error messages.
    pub fn list() -> String {
        Self::ALL.map(Category::as_str).join(", ")
    }
}

/// Where an event is in its life: `draft -> published -> cancelled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Draft,
    Published,
    Cancelled,
}

crate::named_values!(Status {
    Draft => "draft",
    Published => "published",
    Cancelled => "cancelled",
});

/// The status a new event starts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum InitialStatus {
    Draft,
    Published,
}

/// An event as clients see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct EventView {
    pub id: Uuid,
    pub title: String,
    pub description: String,
    pub category: Category,
    pub venue: VenueView,
    pub date_time: DateTime<Utc>,
    /// Minutes.
    pub duration: u32,
    /// `dateTime` plus `duration`.
    pub ends_at: DateTime<Utc>,
    pub ticket_types: Vec<TicketTypeView>,
    /// ISO 4217 code of every price of the event.
    #[cfg_attr(feature = "openapi", schema(example = "USD"))]
    pub currency: String,
    pub organizer: OrganizerView,
    pub status: Status,
    /// The organizer's user id.
    pub created_by: Uuid,
    pub is_active: bool,
    /// Grows by one with every change.
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Whether buyers may cancel paid orders for a refund, and until when.
    pub refund_policy: RefundPolicy,
    /// `onSaleAt` and `queue`: when booking opens, and the waiting room before it.
    #[serde(flatten)]
    pub sale: crate::queue::SaleStart,
    /// Whether buyers can join the waitlist of a sold-out ticket type and are offered the seats
    /// that come free; off, freed seats go back on sale.
    #[serde(default = "crate::waitlist::on_by_default")]
    pub waitlist_enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct VenueView {
    pub name: String,
    pub address: String,
    pub city: String,
    pub capacity: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TicketTypeView {
    pub name: String,
    /// The exact price as the shortest decimal number (`25.5`).
    #[cfg_attr(feature = "openapi", schema(value_type = f64, example = 25.5))]
    pub price: serde_json::Number,
    /// The same price in cents: exact, for clients that compute with it.
    #[cfg_attr(feature = "openapi", schema(example = 2550))]
    pub price_minor: i64,
    pub quantity: u32,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OrganizerView {
    pub name: String,
    pub email: String,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub phone: Option<String>,
}

/// `{"event": ...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventResponse {
    pub event: EventView,
}

/// `{"event": ..., "ordersToRefund": 3}`: the answer to cancelling an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CancelledEventResponse {
    pub event: EventView,
    /// How many paid (confirmed) orders the cancellation refunds, as the ticket service counted
    /// them just before; null when it could not tell in time.
    #[cfg_attr(feature = "openapi", schema(required = true, example = 3))]
    pub orders_to_refund: Option<u64>,
}

/// One page of the catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct EventPage {
    pub events: Vec<EventView>,
    /// Matching events on all pages.
    pub total: u64,
    pub page: u32,
    pub limit: u32,
    pub total_pages: u64,
}

/// The caller's events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MyEvents {
    pub events: Vec<EventView>,
    pub total: u64,
}

/// Whether a buyer may cancel a paid order for a refund, and until how long before the event
/// starts. By default refunds are not offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct RefundPolicy {
    pub allowed: bool,
    /// Refunds close this many hours before the event starts (0: until it starts).
    pub until_hours_before: u32,
}

impl RefundPolicy {
    /// The last moment a buyer may still cancel for a refund; `None` when refunds are not offered.
    pub fn deadline(&self, event_starts: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.allowed
            .then(|| event_starts - Duration::hours(i64::from(self.until_hours_before)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_are_matched_in_any_case_and_written_as_listed() {
        assert_eq!(Category::parse(" THEATER "), Some(Category::Theater));
        assert_eq!(Category::parse("theatre"), None);
        for c in Category::ALL {
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
        assert!(Category::list().starts_with("Music, Sports, "));
    }

    #[test]
    fn a_new_event_starts_in_a_status_written_as_that_status_is() {
        assert_eq!(
            serde_json::to_value(InitialStatus::Draft).unwrap(),
            Status::Draft.as_str()
        );
    }

    #[test]
    fn a_price_keeps_its_exact_decimal_beside_its_minor_units() {
        let line: TicketTypeView = serde_json::from_str(
            r#"{"name":"General","price":25.5,"priceMinor":2550,"quantity":10,"description":""}"#,
        )
        .unwrap();
        assert_eq!(line.price.to_string(), "25.5");
        assert_eq!(
            serde_json::to_string(&line).unwrap(),
            r#"{"name":"General","price":25.5,"priceMinor":2550,"quantity":10,"description":""}"#
        );
    }

    #[test]
    fn a_policy_reads_as_camel_case_and_a_missing_one_offers_no_refunds() {
        let policy = RefundPolicy {
            allowed: true,
            until_hours_before: 48,
        };
        let v = serde_json::to_value(policy).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"allowed": true, "untilHoursBefore": 48})
        );
        assert_eq!(serde_json::from_value::<RefundPolicy>(v).unwrap(), policy);
        assert_eq!(
            RefundPolicy::default(),
            RefundPolicy {
                allowed: false,
                until_hours_before: 0
            }
        );
    }

    #[test]
    fn refunds_close_the_given_hours_before_the_event_and_never_when_not_offered() {
        let starts = DateTime::from_timestamp(1_900_000_000, 0).unwrap();
        let policy = RefundPolicy {
            allowed: true,
            until_hours_before: 24,
        };
        assert_eq!(policy.deadline(starts), Some(starts - Duration::days(1)));
        let until_start = RefundPolicy {
            until_hours_before: 0,
            ..policy
        };
        assert_eq!(until_start.deadline(starts), Some(starts));
        let not_offered = RefundPolicy {
            allowed: false,
            ..policy
        };
        assert_eq!(not_offered.deadline(starts), None);
    }
}
