//! Orders as the ticket service shows them.

use serde::{Deserialize, Serialize};

// Where an order stands in its life cycle. A plain comment on purpose: a doc comment would become
// the schema's description, and the published ticket document has none for this enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum OrderStatus {
    Pending,
    Confirmed,
    Cancelled,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::Confirmed => "confirmed",
            OrderStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => OrderStatus::Pending,
            "confirmed" => OrderStatus::Confirmed,
            "cancelled" => OrderStatus::Cancelled,
            _ => return None,
        })
    }
}

/// Why an order ended without a sale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum CancelReason {
    PaymentFailed,
    Expired,
    UserCancelled,
    EventCancelled,
}

impl CancelReason {
    pub fn as_str(self) -> &'static str {
        match self {
            CancelReason::PaymentFailed => "payment_failed",
            CancelReason::Expired => "expired",
            CancelReason::UserCancelled => "user_cancelled",
            CancelReason::EventCancelled => "event_cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "payment_failed" => CancelReason::PaymentFailed,
            "expired" => CancelReason::Expired,
            "user_cancelled" => CancelReason::UserCancelled,
            "event_cancelled" => CancelReason::EventCancelled,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_reasons_are_written_as_their_names() {
        for s in [
            OrderStatus::Pending,
            OrderStatus::Confirmed,
            OrderStatus::Cancelled,
        ] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
            assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
        }
        for r in [
            CancelReason::PaymentFailed,
            CancelReason::Expired,
            CancelReason::UserCancelled,
            CancelReason::EventCancelled,
        ] {
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
            assert_eq!(CancelReason::parse(r.as_str()), Some(r));
        }
    }
}
