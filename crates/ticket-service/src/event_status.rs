//! Where an event stands in the catalogue, as the ticket service learns it: a leaf type the
//! pure rules and the store both use.

use serde::{Deserialize, Serialize};

/// Where an event stands in the catalogue. Serialized as its name, as stored and shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventStatus {
    Published,
    Cancelled,
    /// Not public yet; so is any status this service does not know.
    #[serde(other)]
    Draft,
}

api_types::named_values!(EventStatus {
    Published => "published",
    Cancelled => "cancelled",
    Draft => "draft",
});

impl EventStatus {
    /// Only a published event takes bookings (and then only until it starts).
    pub fn is_on_sale(self) -> bool {
        self == EventStatus::Published
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_statuses_are_written_as_their_names_and_an_unknown_one_is_never_on_sale() {
        for s in EventStatus::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
            assert_eq!(EventStatus::parse(s.as_str()), Some(s));
        }
        let unknown: EventStatus = serde_json::from_value("archived".into()).unwrap();
        assert_eq!(unknown, EventStatus::Draft);
        assert!(EventStatus::Published.is_on_sale());
        assert!(!EventStatus::Cancelled.is_on_sale() && !unknown.is_on_sale());
    }
}
