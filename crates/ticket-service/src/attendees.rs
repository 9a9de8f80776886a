//! An event's attendee list as its organizer downloads it: CSV (RFC 4180), one row per e-ticket,
//! void ones included with their order's status, so a door list and a refund list agree.

use crate::store::EventTicket;

/// The header row, the columns of every row in this order.
pub const COLUMNS: [&str; 8] = [
    "code",
    "ticket_type",
    "holder_name",
    "holder_email",
    "booking_reference",
    "order_status",
    "checked_in_at",
    "checked_in_gate",
];

/// The `Content-Type` of the list.
pub const CONTENT_TYPE: &str = "text/csv; charset=utf-8";

/// The `Content-Disposition` that makes a browser save the list of `event_id` as a file.
pub fn disposition(event_id: uuid::Uuid) -> String {
    format!("attachment; filename=\"attendees-{event_id}.csv\"")
}

/// The list as CSV: the header, then one row per ticket. A field with a comma, a quote or a line
/// break is quoted (quotes doubled), so every name reads back as it was given.
pub fn csv(tickets: &[EventTicket]) -> Vec<u8> {
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    // Writing to memory only fails when a row has another number of fields, which these never do.
    out.write_record(COLUMNS).expect("the header is written");
    for t in tickets {
        // The first entry (the earliest scan), RFC 3339 in UTC; empty until the ticket entered.
        let (at, gate) = match &t.check_in {
            Some(c) => (
                c.first_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                c.first_gate.clone().unwrap_or_default(),
            ),
            None => (String::new(), String::new()),
        };
        out.write_record([
            t.code.as_str(),
            t.ticket_type.as_str(),
            &t.holder.full_name(),
            t.holder.email.as_str(),
            t.booking_reference.as_str(),
            t.order_status.as_str(),
            &at,
            &gate,
        ])
        .expect("a row of as many fields as the header is written");
    }
    out.into_inner().expect("writing to memory cannot fail")
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::order::{CustomerInfo, OrderStatus};

    fn ticket(first: &str, last: &str, void: bool) -> EventTicket {
        let check_in = (!void).then(|| crate::store::TicketCheckin {
            first_at: "2030-03-30T19:05:00Z".parse().unwrap(),
            first_gate: Some("North, upper".into()),
            inside: true,
        });
        EventTicket {
            code: "TCK-ABC".into(),
            ticket_type: "General, standing".into(),
            void,
            order_id: Uuid::new_v4(),
            booking_reference: "TK-7Q4M9XK2".into(),
            order_status: if void {
                OrderStatus::Refunded
            } else {
                OrderStatus::Confirmed
            },
            holder: CustomerInfo {
                first_name: first.into(),
                last_name: last.into(),
                email: "zoe@example.com".into(),
                phone: None,
            },
            check_in,
        }
    }

    #[test]
    fn names_with_commas_quotes_and_line_breaks_read_back_as_given() {
        let tickets = [
            ticket("Zoë \"Zee\"", "O'Brien, Jr.", false),
            ticket("Line", "Break\nHere", true),
        ];
        let bytes = csv(&tickets);
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with(
            "code,ticket_type,holder_name,holder_email,booking_reference,order_status,checked_in_at,checked_in_gate\r\n"
        ));
        assert!(text.contains(r#""Zoë ""Zee"" O'Brien, Jr.""#), "{text}");

        let mut reader = csv::Reader::from_reader(bytes.as_slice());
        assert_eq!(reader.headers().unwrap(), COLUMNS.as_slice());
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(&rows[0][2], "Zoë \"Zee\" O'Brien, Jr.");
        assert_eq!(&rows[0][1], "General, standing");
        assert_eq!(&rows[0][5], "confirmed");
        assert_eq!(&rows[0][6], "2030-03-30T19:05:00Z");
        assert_eq!(&rows[0][7], "North, upper");
        assert_eq!((&rows[1][6], &rows[1][7]), ("", ""));
        assert_eq!(&rows[1][2], "Line Break\nHere");
        assert_eq!(&rows[1][5], "refunded");
    }

    #[test]
    fn an_event_without_tickets_is_the_header_alone() {
        assert_eq!(
            String::from_utf8(csv(&[])).unwrap(),
            format!("{}\r\n", COLUMNS.join(","))
        );
    }
}
