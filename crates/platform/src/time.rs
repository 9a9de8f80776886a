//! The clock as every store keeps it.

use chrono::{DateTime, Utc};

/// Now, truncated to milliseconds: the precision SQLite rows and BSON dates hold, so a value
/// read back equals the value written.
pub fn now() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).unwrap_or_default()
}
