//! The rules of the door, as pure functions: what a scanned text names ([`identify`]), what the
//! door answers to a scan of a ticket ([`decide`]), and what an offline scanner keeps
//! ([`bundle`]).
//!
//! ```text
//! signed code ──verify with the keys of the event it names──> forged, altered, unreadable: invalid
//!      │                                                      genuine, another event: wrong_event
//!      ▼
//! plain code ──look up──> unknown: invalid; another event: wrong_event
//!      │
//!      ▼ order: pending -> not_paid, cancelled (or void) -> cancelled, refunded -> refunded
//! confirmed ──entry──> never in: ok (the check-in)       inside: already_checked_in
//!      │               left with an exit scan: ok (re-entry)
//!      └──exit───> inside: ok (may re-enter later)       not inside: ok, nothing changes
//! ```
//!
//! Both store adapters run [`decide`] inside their transaction on the ticket they just read and
//! write back exactly what comes out with conditional writes (a first check-in only where there
//! is none, a re-entry only while outside, an exit only while inside), together with the scan's
//! nonce and answer and the `tickets.checked_in` outbox row. Racing scanners therefore get one
//! `ok` per entry: the others read the winner's check-in and answer `already_checked_in`.
//!
//! Offline queues: every scan carries the time it was made (`scannedAt`). The first scan to
//! reach the server while the ticket is outside is answered `ok` and publishes the fact. A scan
//! that reaches the server later but was made earlier (two gates offline, the later one
//! uploading first) is answered `already_checked_in`, and the check-in record moves to its
//! earlier time and gate: the record always keeps the earliest `scannedAt`, so the attendee list
//! and the per-minute counts say when the holder really came in.

use api_types::checkin::{
    CheckinBundle, CheckinCounter, CheckinResponse, CheckinResult, EventPublicKey, FirstCheckIn,
    ScanDirection,
};
use chrono::{DateTime, Utc};
use contracts::tickets::TicketCheckedIn;
use platform::outbox::OutboxMessage;
use ticket_code::{EventKey, Invalid};
use uuid::Uuid;

use crate::facts;
use crate::order::CustomerInfo;
use crate::order::OrderStatus;

/// What the scanned text names: a plain code to look up, or an answer known without looking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanTarget {
    Code(String),
    Refused(CheckinResult),
}

/// One e-ticket of an event as the attendee list shows it, void ones included.
#[derive(Debug, Clone, PartialEq)]
pub struct EventTicket {
    pub code: String,
    pub ticket_type: String,
    pub void: bool,
    pub order_id: Uuid,
    pub booking_reference: String,
    pub order_status: OrderStatus,
    /// Whom the order was booked for.
    pub holder: CustomerInfo,
    /// Its check-in at the door, if it entered.
    pub check_in: Option<TicketCheckin>,
}

/// One of an event's signing keys. The secret never leaves the ticket service; scanners get
/// the public half ([`StoredKey::public_key`]).
#[derive(Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub version: u8,
    pub secret: [u8; 32],
}

impl StoredKey {
    pub fn public_key(&self) -> String {
        ticket_code::EventKey::from_secret(self.version, self.secret).public_key()
    }
}

impl std::fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredKey")
            .field("version", &self.version)
            .field("public_key", &self.public_key())
            .finish_non_exhaustive()
    }
}

/// One scan, validated, as the store takes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Scan {
    /// The event at the door.
    pub event_id: Uuid,
    pub nonce: String,
    pub target: ScanTarget,
    /// When the scanner saw the ticket (now for a live scan).
    pub scanned_at: DateTime<Utc>,
    pub gate: Option<String>,
    pub direction: ScanDirection,
    pub scanned_by: Uuid,
    pub traceparent: Option<String>,
}

/// What the store made of a scan: an answer decided now, or the stored answer of a nonce seen
/// before (an offline queue uploaded twice, a retried request), replayed unchanged.
#[derive(Debug, Clone, PartialEq)]
pub enum Scanned {
    Decided(CheckinResponse),
    Replayed(CheckinResponse),
}

impl Scanned {
    /// The door's decision, once per nonce: what `ticket_checkins_total` counts. A replay is no
    /// new decision, so it has none.
    pub fn decision(&self) -> Option<CheckinResult> {
        match self {
            Scanned::Decided(answer) => Some(answer.result),
            Scanned::Replayed(_) => None,
        }
    }

    /// The answer the scanner gets, decided now or replayed.
    pub fn into_answer(self) -> CheckinResponse {
        match self {
            Scanned::Decided(answer) | Scanned::Replayed(answer) => answer,
        }
    }
}

/// The check-in a ticket has: the first entry (the earliest `scannedAt`) and where the holder
/// is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketCheckin {
    pub first_at: DateTime<Utc>,
    pub first_gate: Option<String>,
    /// Entered and not left since (an exit scan clears it, a re-entry sets it again).
    pub inside: bool,
}

/// A ticket as the door sees it, read with its order and its check-in.
#[derive(Debug, Clone, PartialEq)]
pub struct DoorTicket {
    pub code: String,
    pub event_id: Uuid,
    pub order_id: Uuid,
    pub ticket_type: String,
    pub void: bool,
    pub order_status: OrderStatus,
    pub holder_name: String,
    pub check_in: Option<TicketCheckin>,
}

/// What a scan changes in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckinWrite {
    /// The ticket's first entry: stored only where it has no check-in.
    FirstEntry {
        code: String,
        event_id: Uuid,
        at: DateTime<Utc>,
        gate: Option<String>,
    },
    /// Back in after an exit: only while outside.
    Reentry { code: String },
    /// Out: only while inside.
    Exit { code: String },
    /// A scan made before the recorded check-in: the record takes its time and gate, only while
    /// the recorded time is later.
    Earlier {
        code: String,
        at: DateTime<Utc>,
        gate: Option<String>,
    },
}

/// The answer to a scan and what to store with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub response: CheckinResponse,
    pub write: Option<CheckinWrite>,
    pub facts: Vec<OutboxMessage>,
}

/// The plain code a scanned text names. A signed code is verified with the keys of the event it
/// claims (`keys_of_claimed`, loaded by the caller after [`ticket_code::read`]); anything that
/// fails is `invalid`, a genuine code of another event `wrong_event`. A plain code is looked up
/// as it is (upper-cased and trimmed, the way people type it).
pub fn identify(text: &str, door_event: Uuid, keys_of_claimed: &[StoredKey]) -> ScanTarget {
    if !ticket_code::is_signed(text.trim()) {
        return ScanTarget::Code(text.trim().to_ascii_uppercase());
    }
    let verified = ticket_code::verify(text, |version| {
        keys_of_claimed
            .iter()
            .find(|k| k.version == version)
            .and_then(|k| ticket_code::public_key(&k.public_key()))
    });
    match verified {
        Ok(claim) if claim.event_id == door_event => ScanTarget::Code(claim.code),
        Ok(_) => ScanTarget::Refused(CheckinResult::WrongEvent),
        Err(Invalid::Malformed | Invalid::UnknownKey | Invalid::BadSignature) => {
            ScanTarget::Refused(CheckinResult::Invalid)
        }
    }
}

fn refused(result: CheckinResult, counter: CheckinCounter) -> Decision {
    Decision {
        response: CheckinResponse {
            result,
            code: None,
            ticket_type: None,
            holder_name: None,
            first_check_in: None,
            counter,
        },
        write: None,
        facts: Vec::new(),
    }
}

/// The door's answer to `scan` of `ticket` (as read, `None` when the code is unknown), given the
/// event's counter before the scan.
pub fn decide(scan: &Scan, ticket: Option<&DoorTicket>, counter: CheckinCounter) -> Decision {
    let ticket = match (&scan.target, ticket) {
        (ScanTarget::Refused(result), _) => return refused(*result, counter),
        (ScanTarget::Code(_), None) => return refused(CheckinResult::Invalid, counter),
        (ScanTarget::Code(_), Some(t)) if t.event_id != scan.event_id => {
            return refused(CheckinResult::WrongEvent, counter);
        }
        (ScanTarget::Code(_), Some(t)) => t,
    };
    let code = ticket.code.clone();
    let mut counter = counter;
    let mut first_check_in = None;
    let (result, write) = match (ticket.order_status, &ticket.check_in, scan.direction) {
        (OrderStatus::Refunded, _, _) => (CheckinResult::Refunded, None),
        (OrderStatus::Cancelled, _, _) => (CheckinResult::Cancelled, None),
        (OrderStatus::Pending, _, _) => (CheckinResult::NotPaid, None),
        // Void tickets belong to ended orders only; should one be read otherwise, it admits no one.
        (OrderStatus::Confirmed, _, _) if ticket.void => (CheckinResult::Cancelled, None),
        (OrderStatus::Confirmed, None, ScanDirection::Entry) => {
            counter.checked_in += 1;
            let write = CheckinWrite::FirstEntry {
                code,
                event_id: ticket.event_id,
                at: scan.scanned_at,
                gate: scan.gate.clone(),
            };
            (CheckinResult::Ok, Some(write))
        }
        (OrderStatus::Confirmed, Some(c), ScanDirection::Entry) if !c.inside => {
            (CheckinResult::Ok, Some(CheckinWrite::Reentry { code }))
        }
        (OrderStatus::Confirmed, Some(c), ScanDirection::Entry) => {
            let earlier = scan.scanned_at < c.first_at;
            let (at, gate) = if earlier {
                (scan.scanned_at, scan.gate.clone())
            } else {
                (c.first_at, c.first_gate.clone())
            };
            first_check_in = Some(FirstCheckIn {
                at,
                gate: gate.clone(),
            });
            let write = earlier.then_some(CheckinWrite::Earlier { code, at, gate });
            (CheckinResult::AlreadyCheckedIn, write)
        }
        (OrderStatus::Confirmed, Some(c), ScanDirection::Exit) if c.inside => {
            (CheckinResult::Ok, Some(CheckinWrite::Exit { code }))
        }
        // Leaving without having come in (or twice): let them out, nothing to record.
        (OrderStatus::Confirmed, _, ScanDirection::Exit) => (CheckinResult::Ok, None),
    };
    // An accepted scan that moved the holder in or out is the fact; a moved record is not.
    let facts = if result.admits() && write.is_some() {
        let fact = TicketCheckedIn {
            event_id: ticket.event_id,
            order_id: ticket.order_id,
            code: ticket.code.clone(),
            ticket_type: ticket.ticket_type.clone(),
            direction: scan.direction,
            scanned_at: scan.scanned_at,
            gate: scan.gate.clone(),
            scanned_by: scan.scanned_by,
        };
        vec![facts::checked_in(fact, scan.traceparent.clone())]
    } else {
        Vec::new()
    };
    Decision {
        response: CheckinResponse {
            result,
            code: Some(ticket.code.clone()),
            ticket_type: Some(ticket.ticket_type.clone()),
            holder_name: Some(ticket.holder_name.clone()),
            first_check_in,
            counter,
        },
        write,
        facts,
    }
}

/// The public half of each stored key, as scanners receive them.
pub fn public_keys(keys: &[StoredKey]) -> Vec<EventPublicKey> {
    keys.iter()
        .map(|k| EventPublicKey {
            version: k.version,
            public_key: k.public_key(),
        })
        .collect()
}

/// The key new codes are signed with: the newest version.
pub fn signing_key(keys: &[StoredKey]) -> Option<EventKey> {
    keys.iter()
        .max_by_key(|k| k.version)
        .map(|k| EventKey::from_secret(k.version, k.secret))
}

/// What an offline scanner keeps for `event_id`: its keys and every ticket's plain code by state.
pub fn bundle(
    event_id: Uuid,
    keys: &[StoredKey],
    tickets: &[EventTicket],
    now: DateTime<Utc>,
) -> CheckinBundle {
    let mut b = CheckinBundle {
        event_id,
        generated_at: now,
        keys: public_keys(keys),
        valid: Vec::new(),
        checked_in: Vec::new(),
        cancelled: Vec::new(),
        refunded: Vec::new(),
    };
    for t in tickets {
        let list = match t.order_status {
            OrderStatus::Refunded => &mut b.refunded,
            OrderStatus::Cancelled => &mut b.cancelled,
            // Tickets are issued on payment: a pending order has none.
            OrderStatus::Pending => continue,
            OrderStatus::Confirmed if t.void => &mut b.cancelled,
            OrderStatus::Confirmed if t.check_in.as_ref().is_some_and(|c| c.inside) => {
                &mut b.checked_in
            }
            OrderStatus::Confirmed => &mut b.valid,
        };
        list.push(t.code.clone());
    }
    b
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    const EVENT: Uuid = Uuid::from_u128(0xE1);
    const OTHER: Uuid = Uuid::from_u128(0xE2);

    fn key(version: u8, byte: u8) -> StoredKey {
        StoredKey {
            version,
            secret: [byte; 32],
        }
    }

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2030, 3, 30, 19, minute, 0).unwrap()
    }

    fn ticket(status: OrderStatus, check_in: Option<TicketCheckin>) -> DoorTicket {
        DoorTicket {
            code: "ABCDE-FGHJK-MNPQR-STUVW".into(),
            event_id: EVENT,
            order_id: Uuid::from_u128(7),
            ticket_type: "General".into(),
            void: matches!(status, OrderStatus::Cancelled | OrderStatus::Refunded),
            order_status: status,
            holder_name: "Grace Hopper".into(),
            check_in,
        }
    }

    fn scan(direction: ScanDirection, minute: u32, gate: &str) -> Scan {
        Scan {
            event_id: EVENT,
            nonce: format!("n-{minute}-{gate}"),
            target: ScanTarget::Code("ABCDE-FGHJK-MNPQR-STUVW".into()),
            scanned_at: at(minute),
            gate: Some(gate.into()),
            direction,
            scanned_by: Uuid::from_u128(9),
            traceparent: None,
        }
    }

    /// What `scan` does to a paid ticket that has `check_in`.
    fn decide_paid(scan: Scan, check_in: Option<TicketCheckin>) -> Decision {
        decide(
            &scan,
            Some(&ticket(OrderStatus::Confirmed, check_in)),
            COUNTER,
        )
    }

    fn first(minute: u32, gate: &str) -> FirstCheckIn {
        FirstCheckIn {
            at: at(minute),
            gate: Some(gate.into()),
        }
    }

    fn inside(minute: u32, gate: &str, inside: bool) -> Option<TicketCheckin> {
        Some(TicketCheckin {
            first_at: at(minute),
            first_gate: Some(gate.into()),
            inside,
        })
    }

    const COUNTER: CheckinCounter = CheckinCounter {
        checked_in: 3,
        sold: 10,
    };

    #[test]
    fn a_scan_decided_now_counts_as_a_decision_and_its_replay_answers_the_same_without_one() {
        let answer = decide_paid(scan(ScanDirection::Entry, 5, "North"), None).response;
        assert_eq!(answer.result, CheckinResult::Ok);
        let decided = Scanned::Decided(answer.clone());
        let replayed = Scanned::Replayed(answer.clone());
        assert_eq!(decided.decision(), Some(CheckinResult::Ok));
        assert_eq!(replayed.decision(), None);
        assert_eq!(decided.into_answer(), answer);
        assert_eq!(replayed.into_answer(), answer);
    }

    #[test]
    fn a_genuine_signed_code_of_the_event_names_its_plain_code() {
        let keys = [key(1, 7)];
        let signed = signing_key(&keys)
            .unwrap()
            .sign(EVENT, "ABCDE-FGHJK-MNPQR-STUVW", "General");
        assert_eq!(
            identify(&signed, EVENT, &keys),
            ScanTarget::Code("ABCDE-FGHJK-MNPQR-STUVW".into())
        );
    }

    #[test]
    fn a_forged_altered_or_unreadable_signed_code_is_invalid_and_a_genuine_one_of_another_event_is_wrong_event()
     {
        let keys = [key(1, 7)];
        let signed = signing_key(&keys).unwrap().sign(OTHER, "CODE", "General");
        assert_eq!(
            identify(&signed, EVENT, &keys),
            ScanTarget::Refused(CheckinResult::WrongEvent)
        );
        // Signed with a key the event does not have.
        let forged = EventKey::from_secret(1, [8; 32]).sign(EVENT, "CODE", "General");
        // One character of the payload changed after signing.
        let mut altered = signing_key(&keys).unwrap().sign(EVENT, "CODE", "General");
        let i = altered.find('.').unwrap() + 5;
        let swapped = if &altered[i..=i] == "A" { "B" } else { "A" };
        altered.replace_range(i..=i, swapped);
        let unknown_version = EventKey::from_secret(2, [7; 32]).sign(EVENT, "CODE", "General");
        for text in [forged, altered, unknown_version, "T1.not-base64!.x".into()] {
            assert_eq!(
                identify(&text, EVENT, &keys),
                ScanTarget::Refused(CheckinResult::Invalid),
                "{text}"
            );
        }
    }

    #[test]
    fn a_typed_plain_code_is_looked_up_trimmed_and_upper_cased() {
        assert_eq!(
            identify("  abcde-fghjk ", EVENT, &[]),
            ScanTarget::Code("ABCDE-FGHJK".into())
        );
    }

    #[test]
    fn given_a_paid_ticket_never_scanned_when_it_enters_then_ok_is_recorded_counted_and_published()
    {
        let d = decide_paid(scan(ScanDirection::Entry, 5, "North"), None);
        assert_eq!(d.response.result, CheckinResult::Ok);
        assert_eq!(d.response.holder_name.as_deref(), Some("Grace Hopper"));
        assert_eq!(d.response.counter.checked_in, 4);
        assert_eq!(
            d.write,
            Some(CheckinWrite::FirstEntry {
                code: "ABCDE-FGHJK-MNPQR-STUVW".into(),
                event_id: EVENT,
                at: at(5),
                gate: Some("North".into())
            })
        );
        assert_eq!(d.facts.len(), 1);
        assert_eq!(d.facts[0].subject, contracts::subjects::TICKETS_CHECKED_IN);
    }

    #[test]
    fn given_a_ticket_inside_when_it_enters_again_then_already_checked_in_with_the_first_check_in()
    {
        let d = decide_paid(
            scan(ScanDirection::Entry, 9, "South"),
            inside(5, "North", true),
        );
        assert_eq!(d.response.result, CheckinResult::AlreadyCheckedIn);
        assert_eq!(d.response.first_check_in, Some(first(5, "North")));
        assert_eq!((d.write, d.facts.len()), (None, 0));
        assert_eq!(d.response.counter, COUNTER);
    }

    #[test]
    fn given_a_check_in_recorded_when_an_earlier_offline_scan_arrives_then_it_is_refused_and_the_record_takes_its_time()
     {
        let d = decide_paid(
            scan(ScanDirection::Entry, 2, "South"),
            inside(5, "North", true),
        );
        assert_eq!(d.response.result, CheckinResult::AlreadyCheckedIn);
        assert_eq!(d.response.first_check_in, Some(first(2, "South")));
        assert_eq!(
            d.write,
            Some(CheckinWrite::Earlier {
                code: "ABCDE-FGHJK-MNPQR-STUVW".into(),
                at: at(2),
                gate: Some("South".into())
            })
        );
        assert!(d.facts.is_empty());
    }

    #[test]
    fn given_a_ticket_inside_when_it_exits_then_it_may_enter_once_more() {
        let out = decide_paid(
            scan(ScanDirection::Exit, 20, "North"),
            inside(5, "North", true),
        );
        assert_eq!(out.response.result, CheckinResult::Ok);
        assert!(matches!(out.write, Some(CheckinWrite::Exit { .. })));
        let back = decide_paid(
            scan(ScanDirection::Entry, 30, "North"),
            inside(5, "North", false),
        );
        assert_eq!(back.response.result, CheckinResult::Ok);
        assert!(matches!(back.write, Some(CheckinWrite::Reentry { .. })));
        assert_eq!(
            back.response.counter, COUNTER,
            "a re-entry is no new check-in"
        );
        assert_eq!((out.facts.len(), back.facts.len()), (1, 1));
    }

    #[test]
    fn given_a_ticket_outside_when_it_exits_then_it_passes_and_nothing_changes() {
        let d = decide_paid(scan(ScanDirection::Exit, 20, "North"), None);
        assert_eq!(d.response.result, CheckinResult::Ok);
        assert_eq!((d.write, d.facts.len()), (None, 0));
    }

    #[test]
    fn given_an_unpaid_cancelled_or_refunded_order_when_scanned_then_refused_with_the_reason() {
        for (status, result) in [
            (OrderStatus::Pending, CheckinResult::NotPaid),
            (OrderStatus::Cancelled, CheckinResult::Cancelled),
            (OrderStatus::Refunded, CheckinResult::Refunded),
        ] {
            let d = decide(
                &scan(ScanDirection::Entry, 5, "North"),
                Some(&ticket(status, None)),
                COUNTER,
            );
            assert_eq!(d.response.result, result);
            assert_eq!(d.response.ticket_type.as_deref(), Some("General"));
            assert_eq!((d.write, d.facts.len()), (None, 0));
        }
    }

    #[test]
    fn given_an_unknown_code_or_a_ticket_of_another_event_then_nothing_about_it_is_said() {
        let mut elsewhere = ticket(OrderStatus::Confirmed, None);
        elsewhere.event_id = OTHER;
        let entry = scan(ScanDirection::Entry, 5, "North");
        for (t, result) in [
            (None, CheckinResult::Invalid),
            (Some(&elsewhere), CheckinResult::WrongEvent),
        ] {
            let d = decide(&entry, t, COUNTER);
            assert_eq!(d.response.result, result);
            assert_eq!(
                (d.response.code, d.response.holder_name, d.write),
                (None, None, None)
            );
        }
    }

    #[test]
    fn the_bundle_groups_codes_by_state_and_lists_every_key() {
        let t = |code: &str, status, void, check_in| EventTicket {
            code: code.into(),
            ticket_type: "General".into(),
            void,
            order_id: Uuid::nil(),
            booking_reference: "TK-1".into(),
            order_status: status,
            holder: crate::order::CustomerInfo::sample(),
            check_in,
        };
        let tickets = [
            t("A", OrderStatus::Confirmed, false, None),
            t("B", OrderStatus::Confirmed, false, inside(5, "N", true)),
            t("C", OrderStatus::Confirmed, false, inside(5, "N", false)),
            t("D", OrderStatus::Cancelled, true, None),
            t("E", OrderStatus::Refunded, true, None),
        ];
        let keys = [key(1, 1), key(2, 2)];
        let b = bundle(EVENT, &keys, &tickets, at(0));
        assert_eq!(b.valid, ["A", "C"]);
        assert_eq!(b.checked_in, ["B"]);
        assert_eq!(
            (b.cancelled, b.refunded),
            (vec!["D".to_string()], vec!["E".to_string()])
        );
        assert_eq!(b.keys.len(), 2);
        assert_eq!(signing_key(&keys).unwrap().version(), 2);
    }
}
