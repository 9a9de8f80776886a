//! What the door decides without the server, as pure functions over the event's check-in bundle
//! and the scans this scanner queued: the same rules as the ticket service's, as far as the
//! bundle can tell.
//!
//! ```text
//! signed code ──names another event──> wrong_event (refused; its key is not in this bundle)
//!      │       ──forged, altered, unreadable──> invalid
//!      ▼ genuine
//! plain code ──cancelled / refunded in the bundle──> cancelled / refunded
//!      │     ──unknown: typed──> invalid;  signed──> valid (issued after the bundle was made)
//!      ▼ valid or inside (bundle), then this scanner's admitted queued scans in order
//! entry: inside ──> already_checked_in (with the queued entry's time and gate), else ok
//! exit:  ok (whether inside or not, as the server answers)
//! ```
//!
//! Only scans the door acted on (`ok`) are queued for upload: a refused holder was turned away,
//! so their scan must not check them in later. The server answers each upload again; a ticket
//! admitted offline at two gates comes back `ok` for the earlier scan and `already_checked_in`
//! for the other.

use std::collections::HashMap;

use api_types::checkin::{
    CheckinBundle, CheckinCounter, CheckinRequest, CheckinResponse, CheckinResult, EventPublicKey,
    FirstCheckIn, ScanDirection,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What the bundle says about one ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Known {
    /// Paid and outside (never in, or left with an exit scan).
    Valid,
    /// Paid and inside.
    Inside,
    Cancelled,
    Refunded,
}

/// The bundle, indexed by plain code, kept current with the server's answers to this scanner.
#[derive(Clone, Debug, PartialEq)]
pub struct DoorList {
    event_id: Uuid,
    generated_at: DateTime<Utc>,
    keys: Vec<EventPublicKey>,
    tickets: HashMap<String, Known>,
    /// The server's last counter (or the bundle's, until the first answer).
    counter: CheckinCounter,
}

/// A scan the door admitted offline, waiting for upload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueuedScan {
    /// Sent as it is (same nonce, same `scannedAt`) however often it is uploaded.
    pub scan: CheckinRequest,
    /// The plain code the scan named.
    pub code: String,
    pub ticket_type: Option<String>,
}

/// How a typed or read text is sent: a signed code as it is, a plain code trimmed and
/// upper-cased the way the server looks it up.
pub fn normalize(text: &str) -> String {
    let text = text.trim();
    if ticket_code::is_signed(text) {
        text.to_string()
    } else {
        text.to_ascii_uppercase()
    }
}

/// Whether an upload that failed with HTTP `status` (0: no answer) should stay queued and be
/// tried again later: the network, the services or the session may come back. Anything else
/// (the server read the scan and refused it as a request) would fail the same way forever.
pub fn retry_later(status: u16) -> bool {
    matches!(status, 0 | 401 | 403 | 408 | 429) || status >= 500
}

impl DoorList {
    pub fn new(bundle: &CheckinBundle) -> Self {
        let mut tickets = HashMap::with_capacity(
            bundle.valid.len()
                + bundle.checked_in.len()
                + bundle.cancelled.len()
                + bundle.refunded.len(),
        );
        for (list, known) in [
            (&bundle.valid, Known::Valid),
            (&bundle.checked_in, Known::Inside),
            (&bundle.cancelled, Known::Cancelled),
            (&bundle.refunded, Known::Refunded),
        ] {
            tickets.extend(list.iter().map(|code| (code.clone(), known)));
        }
        DoorList {
            event_id: bundle.event_id,
            generated_at: bundle.generated_at,
            keys: bundle.keys.clone(),
            counter: CheckinCounter {
                // Those inside now: a lower bound until the server's first answer says more.
                checked_in: count(bundle.checked_in.len()),
                sold: count(bundle.valid.len() + bundle.checked_in.len()),
            },
            tickets,
        }
    }

    pub fn generated_at(&self) -> DateTime<Utc> {
        self.generated_at
    }

    /// Tickets the list knows.
    pub fn len(&self) -> usize {
        self.tickets.len()
    }

    /// After a refresh: the bundle counts those inside now, the server counts everyone who ever
    /// entered; both are lower bounds of the latter, so keep the larger.
    pub fn keep_counter_of(&mut self, older: &DoorList) {
        self.counter.checked_in = self.counter.checked_in.max(older.counter.checked_in);
    }

    /// The list as a bundle again (what the scanner stores), codes sorted.
    pub fn to_bundle(&self) -> CheckinBundle {
        let mut bundle = CheckinBundle {
            event_id: self.event_id,
            generated_at: self.generated_at,
            keys: self.keys.clone(),
            valid: Vec::new(),
            checked_in: Vec::new(),
            cancelled: Vec::new(),
            refunded: Vec::new(),
        };
        for (code, known) in &self.tickets {
            let list = match known {
                Known::Valid => &mut bundle.valid,
                Known::Inside => &mut bundle.checked_in,
                Known::Cancelled => &mut bundle.cancelled,
                Known::Refunded => &mut bundle.refunded,
            };
            list.push(code.clone());
        }
        for list in [
            &mut bundle.valid,
            &mut bundle.checked_in,
            &mut bundle.cancelled,
            &mut bundle.refunded,
        ] {
            list.sort_unstable();
        }
        bundle
    }

    /// Takes in what the server answered to `scan`, so that a later offline decision knows it
    /// (a ticket admitted online is inside) and the counter is the server's.
    pub fn record(&mut self, scan: &CheckinRequest, answer: &CheckinResponse) {
        self.counter = answer.counter;
        let Some(code) = &answer.code else { return };
        let known = match (answer.result, scan.direction) {
            (CheckinResult::Ok, ScanDirection::Entry) | (CheckinResult::AlreadyCheckedIn, _) => {
                Known::Inside
            }
            (CheckinResult::Ok, ScanDirection::Exit) => Known::Valid,
            (CheckinResult::Cancelled, _) => Known::Cancelled,
            (CheckinResult::Refunded, _) => Known::Refunded,
            (CheckinResult::NotPaid | CheckinResult::WrongEvent | CheckinResult::Invalid, _) => {
                return;
            }
        };
        self.tickets.insert(code.clone(), known);
    }

    /// The counter as this scanner knows it: the server's last, plus the first entries it
    /// admitted offline and has not uploaded yet.
    pub fn counter(&self, queue: &[QueuedScan]) -> CheckinCounter {
        let mut entered: Vec<&str> = queue
            .iter()
            .filter(|q| q.scan.direction == ScanDirection::Entry)
            .filter(|q| !matches!(self.tickets.get(&q.code), Some(Known::Inside)))
            .map(|q| q.code.as_str())
            .collect();
        entered.sort_unstable();
        entered.dedup();
        // A signed ticket issued after the bundle was made is sold too.
        let unlisted = entered
            .iter()
            .filter(|c| !self.tickets.contains_key(**c))
            .count();
        CheckinCounter {
            checked_in: self.counter.checked_in + count(entered.len()),
            sold: self.counter.sold + count(unlisted),
        }
    }

    /// The door's answer to `scan` from the list and the scans already queued here; when it is
    /// `ok`, [`QueuedScan`] is what to queue. The holder's name is not in the bundle: it is
    /// `None` until the server answers the upload.
    pub fn decide(
        &self,
        queue: &[QueuedScan],
        scan: &CheckinRequest,
    ) -> (CheckinResponse, Option<QueuedScan>) {
        let refused = |result| {
            let answer = CheckinResponse {
                result,
                code: None,
                ticket_type: None,
                holder_name: None,
                first_check_in: None,
                counter: self.counter(queue),
            };
            (answer, None)
        };
        let (code, ticket_type, signed) = match self.identify(&scan.code) {
            Ok(found) => found,
            Err(result) => return refused(result),
        };
        let known = match self.tickets.get(&code) {
            Some(known) => *known,
            // Genuine, issued after the bundle was made (or admitted here as such before).
            None if signed || queue.iter().any(|q| q.code == code) => Known::Valid,
            None => return refused(CheckinResult::Invalid),
        };
        // A typed code says no ticket type; a signed scan of the same ticket queued here did.
        let ticket_type = ticket_type.or_else(|| {
            queue
                .iter()
                .find(|q| q.code == code)
                .and_then(|q| q.ticket_type.clone())
        });
        let mut answer = CheckinResponse {
            result: CheckinResult::Ok,
            code: Some(code.clone()),
            ticket_type,
            holder_name: None,
            first_check_in: None,
            counter: self.counter(queue),
        };
        match known {
            Known::Cancelled => answer.result = CheckinResult::Cancelled,
            Known::Refunded => answer.result = CheckinResult::Refunded,
            Known::Valid | Known::Inside => {
                let (inside, first) = here(known == Known::Inside, queue, &code);
                if scan.direction == ScanDirection::Entry && inside {
                    answer.result = CheckinResult::AlreadyCheckedIn;
                    answer.first_check_in = first;
                }
            }
        }
        if !answer.result.admits() {
            return (answer, None);
        }
        let queued = QueuedScan {
            scan: scan.clone(),
            code,
            ticket_type: answer.ticket_type.clone(),
        };
        let with_it: Vec<QueuedScan> = queue.iter().cloned().chain([queued.clone()]).collect();
        answer.counter = self.counter(&with_it);
        (answer, Some(queued))
    }

    /// The plain code a text names, the ticket type when a signed code says it, and whether the
    /// text was a genuine signed code; or the refusal.
    fn identify(&self, text: &str) -> Result<(String, Option<String>, bool), CheckinResult> {
        let text = text.trim();
        if !ticket_code::is_signed(text) {
            return Ok((text.to_ascii_uppercase(), None, false));
        }
        let claimed = ticket_code::read(text).map_err(|_| CheckinResult::Invalid)?;
        if claimed.event_id != self.event_id {
            // Only this event's keys are here: another event's ticket cannot be checked, and
            // admits no one at this door either way.
            return Err(CheckinResult::WrongEvent);
        }
        let claim = ticket_code::verify(text, |version| {
            self.keys
                .iter()
                .find(|k| k.version == version)
                .and_then(|k| ticket_code::public_key(&k.public_key))
        })
        .map_err(|_| CheckinResult::Invalid)?;
        Ok((claim.code, Some(claim.ticket_type), true))
    }
}

/// Whether the holder of `code` is inside after this scanner's queued scans (starting from
/// `inside` as the list says), and the first entry queued here.
fn here(mut inside: bool, queue: &[QueuedScan], code: &str) -> (bool, Option<FirstCheckIn>) {
    let mut first = None;
    for q in queue.iter().filter(|q| q.code == code) {
        match q.scan.direction {
            ScanDirection::Entry => {
                inside = true;
                if first.is_none() {
                    first = q.scan.scanned_at.map(|at| FirstCheckIn {
                        at,
                        gate: q.scan.gate.clone(),
                    });
                }
            }
            ScanDirection::Exit => inside = false,
        }
    }
    (inside, first)
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use ticket_code::EventKey;

    use super::*;

    const EVENT: Uuid = Uuid::from_u128(0xE1);
    const OTHER: Uuid = Uuid::from_u128(0xE2);

    fn key() -> EventKey {
        EventKey::from_secret(1, [7; 32])
    }

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2030, 3, 30, 19, minute, 0).unwrap()
    }

    /// Given: AAAAA valid, BBBBB inside, CCCCC cancelled, DDDDD refunded.
    fn door() -> DoorList {
        DoorList::new(&CheckinBundle {
            event_id: EVENT,
            generated_at: at(0),
            keys: vec![EventPublicKey {
                version: 1,
                public_key: key().public_key(),
            }],
            valid: vec!["AAAAA".into()],
            checked_in: vec!["BBBBB".into()],
            cancelled: vec!["CCCCC".into()],
            refunded: vec!["DDDDD".into()],
        })
    }

    fn scan(code: &str, direction: ScanDirection, minute: u32, gate: &str) -> CheckinRequest {
        CheckinRequest {
            event_id: EVENT,
            code: code.into(),
            nonce: format!("{code}-{minute}-{gate}"),
            scanned_at: Some(at(minute)),
            gate: Some(gate.into()),
            direction,
        }
    }

    fn entry(code: &str, minute: u32) -> CheckinRequest {
        scan(code, ScanDirection::Entry, minute, "North")
    }

    /// Decides `scan` and queues it when admitted, as the scanner does.
    fn scan_into(
        door: &DoorList,
        queue: &mut Vec<QueuedScan>,
        s: &CheckinRequest,
    ) -> CheckinResponse {
        let (answer, queued) = door.decide(queue, s);
        queue.extend(queued);
        answer
    }

    fn server_answer(result: CheckinResult, code: &str, checked_in: u32) -> CheckinResponse {
        CheckinResponse {
            result,
            code: Some(code.into()),
            ticket_type: Some("General".into()),
            holder_name: Some("Ada Lovelace".into()),
            first_check_in: None,
            counter: CheckinCounter {
                checked_in,
                sold: 2,
            },
        }
    }

    #[test]
    fn a_valid_typed_code_is_admitted_once_then_amber_with_the_first_scan_here() {
        let door = door();
        let mut queue = Vec::new();
        let first = scan_into(&door, &mut queue, &entry(" aaaaa ", 1));
        assert_eq!(first.result, CheckinResult::Ok);
        assert_eq!(first.code.as_deref(), Some("AAAAA"));
        assert_eq!(queue.len(), 1);

        let again = scan_into(
            &door,
            &mut queue,
            &scan("AAAAA", ScanDirection::Entry, 3, "South"),
        );
        assert_eq!(again.result, CheckinResult::AlreadyCheckedIn);
        assert_eq!(
            again.first_check_in,
            Some(FirstCheckIn {
                at: at(1),
                gate: Some("North".into())
            })
        );
        assert_eq!(queue.len(), 1, "a refused scan is not queued");
    }

    #[test]
    fn a_ticket_inside_by_the_bundle_is_amber_and_refusals_are_never_queued() {
        let door = door();
        let mut queue = Vec::new();
        for (code, want) in [
            ("BBBBB", CheckinResult::AlreadyCheckedIn),
            ("CCCCC", CheckinResult::Cancelled),
            ("DDDDD", CheckinResult::Refunded),
            ("ZZZZZ", CheckinResult::Invalid),
            ("", CheckinResult::Invalid),
        ] {
            assert_eq!(
                scan_into(&door, &mut queue, &entry(code, 1)).result,
                want,
                "{code:?}"
            );
        }
        assert!(queue.is_empty());
    }

    #[test]
    fn an_exit_lets_the_holder_out_and_the_next_entry_admits_them_again() {
        let door = door();
        let mut queue = Vec::new();
        let out = scan(" bbbbb", ScanDirection::Exit, 1, "North");
        assert_eq!(scan_into(&door, &mut queue, &out).result, CheckinResult::Ok);
        assert_eq!(
            scan_into(&door, &mut queue, &entry("BBBBB", 2)).result,
            CheckinResult::Ok
        );
        assert_eq!(
            scan_into(&door, &mut queue, &entry("BBBBB", 3)).result,
            CheckinResult::AlreadyCheckedIn
        );
        // Leaving without having come in: let out, as the server does.
        assert_eq!(
            scan_into(
                &door,
                &mut queue,
                &scan("AAAAA", ScanDirection::Exit, 4, "North")
            )
            .result,
            CheckinResult::Ok
        );
    }

    #[test]
    fn a_genuine_signed_code_is_admitted_with_its_ticket_type_even_when_issued_after_the_bundle() {
        let door = door();
        let mut queue = Vec::new();
        let listed = key().sign(EVENT, "AAAAA", "VIP");
        let answer = scan_into(&door, &mut queue, &entry(&listed, 1));
        assert_eq!(answer.result, CheckinResult::Ok);
        assert_eq!(answer.code.as_deref(), Some("AAAAA"));
        assert_eq!(answer.ticket_type.as_deref(), Some("VIP"));
        assert_eq!(answer.holder_name, None, "names are not in the bundle");

        let newer = key().sign(EVENT, "NEWER", "General");
        assert_eq!(
            scan_into(&door, &mut queue, &entry(&newer, 2)).result,
            CheckinResult::Ok
        );
        // The typed plain code of the same ticket is the same ticket, of the type signed.
        let typed = scan_into(&door, &mut queue, &entry("newer", 3));
        assert_eq!(typed.result, CheckinResult::AlreadyCheckedIn);
        assert_eq!(typed.ticket_type.as_deref(), Some("General"));
    }

    #[test]
    fn forged_altered_or_foreign_signed_codes_are_refused() {
        let door = door();
        let mut queue = Vec::new();
        let forged = EventKey::from_secret(1, [9; 32]).sign(EVENT, "AAAAA", "General");
        let unknown_key = EventKey::from_secret(2, [7; 32]).sign(EVENT, "AAAAA", "General");
        let genuine = key().sign(EVENT, "AAAAA", "General");
        let altered = format!("{}A", &genuine[..genuine.len() - 1]);
        for text in [
            &forged,
            &unknown_key,
            &altered,
            &"T1.nonsense.x".to_string(),
        ] {
            assert_eq!(
                scan_into(&door, &mut queue, &entry(text, 1)).result,
                CheckinResult::Invalid,
                "{text}"
            );
        }
        let other_event = key().sign(OTHER, "AAAAA", "General");
        assert_eq!(
            scan_into(&door, &mut queue, &entry(&other_event, 1)).result,
            CheckinResult::WrongEvent
        );
        assert!(queue.is_empty());
    }

    #[test]
    fn the_counter_adds_first_entries_queued_here_once_each() {
        let door = door();
        assert_eq!(
            door.counter(&[]),
            CheckinCounter {
                checked_in: 1,
                sold: 2
            }
        );
        let mut queue = Vec::new();
        let answer = scan_into(&door, &mut queue, &entry("AAAAA", 1));
        assert_eq!(
            answer.counter,
            CheckinCounter {
                checked_in: 2,
                sold: 2
            }
        );
        scan_into(
            &door,
            &mut queue,
            &scan("AAAAA", ScanDirection::Exit, 2, "North"),
        );
        scan_into(&door, &mut queue, &entry("AAAAA", 3));
        // BBBBB was inside already: its re-entry does not count again.
        scan_into(
            &door,
            &mut queue,
            &scan("BBBBB", ScanDirection::Exit, 4, "North"),
        );
        scan_into(&door, &mut queue, &entry("BBBBB", 5));
        assert_eq!(queue.len(), 5);
        assert_eq!(
            door.counter(&queue),
            CheckinCounter {
                checked_in: 2,
                sold: 2
            }
        );
        // A signed ticket the bundle does not list is sold as well.
        let newer = key().sign(EVENT, "NEWER", "General");
        let answer = scan_into(&door, &mut queue, &entry(&newer, 6));
        assert_eq!(
            answer.counter,
            CheckinCounter {
                checked_in: 3,
                sold: 3
            }
        );
    }

    #[test]
    fn the_servers_answers_update_the_list_and_the_counter() {
        let mut door = door();
        let online = entry("AAAAA", 1);
        door.record(&online, &server_answer(CheckinResult::Ok, "AAAAA", 7));
        assert_eq!(
            door.counter(&[]),
            CheckinCounter {
                checked_in: 7,
                sold: 2
            }
        );
        // Offline afterwards, the same ticket at this door is amber.
        assert_eq!(
            door.decide(&[], &entry("AAAAA", 2)).0.result,
            CheckinResult::AlreadyCheckedIn
        );

        door.record(
            &scan("AAAAA", ScanDirection::Exit, 3, "North"),
            &server_answer(CheckinResult::Ok, "AAAAA", 7),
        );
        assert_eq!(
            door.decide(&[], &entry("AAAAA", 4)).0.result,
            CheckinResult::Ok
        );

        door.record(
            &entry("AAAAA", 5),
            &server_answer(CheckinResult::Refunded, "AAAAA", 7),
        );
        assert_eq!(
            door.decide(&[], &entry("AAAAA", 6)).0.result,
            CheckinResult::Refunded
        );

        // An answer without a code (invalid) changes the counter only.
        let mut invalid = server_answer(CheckinResult::Invalid, "x", 8);
        invalid.code = None;
        door.record(&entry("ZZZZZ", 7), &invalid);
        assert_eq!(door.counter(&[]).checked_in, 8);
        assert_eq!(door.len(), 4);
    }

    #[test]
    fn a_refreshed_list_keeps_the_larger_checked_in_count() {
        let mut older = door();
        older.record(
            &entry("AAAAA", 1),
            &server_answer(CheckinResult::Ok, "AAAAA", 9),
        );
        let mut fresh = door();
        fresh.keep_counter_of(&older);
        assert_eq!(
            fresh.counter(&[]),
            CheckinCounter {
                checked_in: 9,
                sold: 2
            }
        );
        let mut fresh_again = door();
        fresh_again.keep_counter_of(&door());
        assert_eq!(fresh_again.counter(&[]).checked_in, 1);
    }

    #[test]
    fn the_list_written_back_holds_what_the_server_answered() {
        let mut door = door();
        door.record(
            &entry("AAAAA", 1),
            &server_answer(CheckinResult::Ok, "AAAAA", 2),
        );
        let bundle = door.to_bundle();
        assert_eq!(bundle.valid, Vec::<String>::new());
        assert_eq!(bundle.checked_in, ["AAAAA", "BBBBB"]);
        assert_eq!(bundle.cancelled, ["CCCCC"]);
        assert_eq!(bundle.refunded, ["DDDDD"]);
        assert_eq!(
            DoorList::new(&bundle)
                .decide(&[], &entry("AAAAA", 2))
                .0
                .result,
            CheckinResult::AlreadyCheckedIn
        );
    }

    #[test]
    fn typed_codes_are_sent_upper_cased_and_signed_ones_as_read() {
        assert_eq!(normalize("  abcde-fghjk "), "ABCDE-FGHJK");
        let signed = key().sign(EVENT, "AAAAA", "General");
        assert_eq!(normalize(&format!(" {signed}\n")), signed);
    }

    #[test]
    fn only_failures_that_can_pass_later_keep_a_scan_queued() {
        for status in [0, 401, 403, 408, 429, 500, 502, 503, 504] {
            assert!(retry_later(status), "{status}");
        }
        for status in [400, 404, 409, 422] {
            assert!(!retry_later(status), "{status}");
        }
    }

    #[test]
    fn a_queue_survives_storage_as_json() {
        let door = door();
        let mut queue = Vec::new();
        scan_into(&door, &mut queue, &entry("AAAAA", 1));
        let text = serde_json::to_string(&queue).unwrap();
        let back: Vec<QueuedScan> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, queue);
    }
}
