//! The `.ics` file of a confirmation (RFC 5545): one `VEVENT` for the event, in UTC, whose `UID`
//! is the order's, so importing a second copy updates the first instead of adding another.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::domain::EventRecord;

const PRODID: &str = "-//Ticketing//Notification Service//EN";

/// `VCALENDAR` text with CRLF line ends and lines folded at 75 octets.
pub fn ics(
    event: &EventRecord,
    order_id: Uuid,
    booking_reference: &str,
    now: DateTime<Utc>,
) -> String {
    // An event without a known length is put in as two hours.
    let minutes = if event.duration == 0 {
        120
    } else {
        event.duration
    };
    let end = event.date_time + Duration::minutes(i64::from(minutes));
    let location = if event.venue_name.is_empty() {
        String::new()
    } else {
        format!("{}, {}", event.venue_name, event.venue_city)
    };
    let lines = [
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".to_string(),
        format!("PRODID:{PRODID}"),
        "CALSCALE:GREGORIAN".to_string(),
        "METHOD:PUBLISH".to_string(),
        "BEGIN:VEVENT".to_string(),
        format!("UID:{order_id}@ticketing"),
        format!("DTSTAMP:{}", stamp(now)),
        format!("DTSTART:{}", stamp(event.date_time)),
        format!("DTEND:{}", stamp(end)),
        format!("SUMMARY:{}", text(&event.title)),
        format!("LOCATION:{}", text(&location)),
        format!(
            "DESCRIPTION:{}",
            text(&format!(
                "Booking reference {booking_reference}. Show your tickets' QR codes at the entrance."
            ))
        ),
        "STATUS:CONFIRMED".to_string(),
        "END:VEVENT".to_string(),
        "END:VCALENDAR".to_string(),
    ];
    lines.iter().map(|l| fold(l)).collect()
}

/// A UTC date-time: `20300317T180000Z`.
fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// A `TEXT` value: backslash, semicolon, comma and newline escaped (RFC 5545 3.3.11).
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// One content line, folded so no physical line exceeds 75 octets (never inside a character),
/// ended with CRLF.
fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        // Continuation lines start with a space, which counts toward their 75 octets.
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(title: &str) -> EventRecord {
        EventRecord {
            id: Uuid::nil(),
            version: 1,
            title: title.into(),
            date_time: "2030-03-17T18:00:00Z".parse().unwrap(),
            duration: 90,
            venue_name: "Blue Room".into(),
            venue_city: "Chicago".into(),
            cancelled: false,
        }
    }

    #[test]
    fn the_event_is_written_in_utc_with_its_length() {
        let ics = ics(&event("Jazz Night"), Uuid::nil(), "TK-1", Utc::now());
        assert!(ics.contains("DTSTART:20300317T180000Z\r\n"), "{ics}");
        assert!(ics.contains("DTEND:20300317T193000Z\r\n"), "{ics}");
        assert!(ics.contains("LOCATION:Blue Room\\, Chicago\r\n"), "{ics}");
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\n") && ics.ends_with("END:VCALENDAR\r\n"));
    }

    #[test]
    fn long_and_special_titles_are_escaped_and_folded_within_75_octets() {
        let title = "Éte; jazz, \"live\"\\ ".repeat(8);
        let ics = ics(&event(&title), Uuid::nil(), "TK-1", Utc::now());
        assert!(ics.split("\r\n").all(|l| l.len() <= 75), "{ics}");
        let unfolded = ics.replace("\r\n ", "");
        assert!(
            unfolded.contains("SUMMARY:Éte\\; jazz\\, \"live\"\\\\ Éte"),
            "{unfolded}"
        );
    }
}
