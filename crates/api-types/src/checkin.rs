//! Check-in at the door: `POST /api/tickets/checkin` (one scan), the offline bundle
//! `GET /api/tickets/events/{id}/checkin/bundle`, and the event's check-in staff
//! (`/api/events/{id}/staff`). What a QR code carries is defined by the `ticket-code` crate.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Longest gate name a scan may carry, in characters.
pub const MAX_GATE_CHARS: usize = 64;
/// Longest scanner nonce, in characters.
pub const MAX_NONCE_CHARS: usize = 128;

/// Which way the holder passes the gate. An exit scan lets a checked-in holder leave, so that
/// their next entry scan admits them again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ScanDirection {
    #[default]
    Entry,
    Exit,
}

/// One scan, as a scanner sends it (at once when online, later from its queue when offline).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CheckinRequest {
    pub event_id: Uuid,
    /// The signed code a camera read (`T1.…`) or the plain code a person typed.
    #[cfg_attr(feature = "openapi", schema(example = "ABCDE-FGHJK-MNPQR-STUVW"))]
    pub code: String,
    /// Chosen by the scanner once per scan; sending the same nonce again replays the first
    /// answer, so a queue can be re-uploaded safely.
    #[cfg_attr(feature = "openapi", schema(example = "9b2f0c1e-scan-0001"))]
    pub nonce: String,
    /// When the scan happened, for scans uploaded later; now when absent. When two scanners
    /// admitted the same ticket while offline, the earlier scan is the check-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scanned_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(example = "North gate"))]
    pub gate: Option<String>,
    #[serde(default)]
    pub direction: ScanDirection,
}

/// What the door should do with a scanned ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CheckinResult {
    /// Let them in (or out, for an exit scan).
    Ok,
    /// The ticket was already used to enter; `firstCheckIn` says when and where.
    AlreadyCheckedIn,
    /// The order was cancelled: the ticket admits no one.
    Cancelled,
    /// The order was refunded: the ticket admits no one.
    Refunded,
    /// The order is not paid.
    NotPaid,
    /// A genuine ticket of another event.
    WrongEvent,
    /// Not a ticket: unknown code, forged or altered signature, or unreadable.
    Invalid,
}

impl CheckinResult {
    /// Green at the door: the holder passes.
    pub fn admits(self) -> bool {
        self == Self::Ok
    }
}

/// The check-in that counted for a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct FirstCheckIn {
    pub at: DateTime<Utc>,
    #[cfg_attr(feature = "openapi", schema(required = true, example = "North gate"))]
    pub gate: Option<String>,
}

/// The live counter a scanner shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CheckinCounter {
    /// Tickets that have entered (an exit does not lower it).
    pub checked_in: u32,
    /// Valid tickets sold for the event.
    pub sold: u32,
}

/// The answer to one scan. Everything but `result` and `counter` is null for an `invalid`
/// or `wrong_event` scan: a scanner learns nothing about tickets it may not see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CheckinResponse {
    pub result: CheckinResult,
    /// The plain code of the scanned ticket.
    #[cfg_attr(
        feature = "openapi",
        schema(required = true, example = "ABCDE-FGHJK-MNPQR-STUVW")
    )]
    pub code: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true, example = "General"))]
    pub ticket_type: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true, example = "Grace Hopper"))]
    pub holder_name: Option<String>,
    /// Set when `result` is `already_checked_in`.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub first_check_in: Option<FirstCheckIn>,
    pub counter: CheckinCounter,
}

/// One of an event's public keys; `version` is the key version inside signed codes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct EventPublicKey {
    pub version: u8,
    /// Ed25519 public key, 32 bytes in base64url without padding.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "Z3vQ0y0m8a1s4b7d2q9w5e6r3t8y1u4i7o0p2a5s8d0")
    )]
    pub public_key: String,
}

/// What a scanner keeps to work offline: the event's keys and every sold ticket's plain code by
/// state. Codes only (no names), grouped so that 50,000 tickets stay near 1.3 MB of JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CheckinBundle {
    pub event_id: Uuid,
    pub generated_at: DateTime<Utc>,
    pub keys: Vec<EventPublicKey>,
    /// Paid tickets that have not entered.
    pub valid: Vec<String>,
    /// Paid tickets already inside.
    pub checked_in: Vec<String>,
    /// Tickets of cancelled orders.
    pub cancelled: Vec<String>,
    /// Tickets of refunded orders.
    pub refunded: Vec<String>,
}

/// Body of `POST /api/events/{id}/staff`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AddStaffRequest {
    #[cfg_attr(feature = "openapi", schema(example = "door@example.org"))]
    pub email: String,
}

/// One person the organizer named to scan tickets at the event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct StaffMember {
    #[cfg_attr(feature = "openapi", schema(example = "door@example.org"))]
    pub email: String,
    pub added_at: DateTime<Utc>,
}

/// `GET /api/events/{id}/staff`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct StaffList {
    pub event_id: Uuid,
    pub staff: Vec<StaffMember>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scan_without_direction_or_time_is_an_entry_now() {
        let scan: CheckinRequest = serde_json::from_str(
            r#"{"eventId":"00000000-0000-0000-0000-000000000001","code":"ABCDE","nonce":"n1"}"#,
        )
        .unwrap();
        assert_eq!(scan.direction, ScanDirection::Entry);
        assert_eq!(scan.scanned_at, None);
        assert_eq!(scan.gate, None);
    }

    #[test]
    fn results_are_written_in_snake_case_and_only_ok_admits() {
        let written: Vec<String> = [
            CheckinResult::Ok,
            CheckinResult::AlreadyCheckedIn,
            CheckinResult::WrongEvent,
            CheckinResult::NotPaid,
        ]
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
        assert_eq!(
            written,
            [
                "\"ok\"",
                "\"already_checked_in\"",
                "\"wrong_event\"",
                "\"not_paid\""
            ]
        );
        assert!(CheckinResult::Ok.admits());
        assert!(!CheckinResult::AlreadyCheckedIn.admits());
    }
}
