//! Events as the catalogue shows them.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

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
