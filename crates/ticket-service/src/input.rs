//! What clients send, checked at the edge: request bodies and path ids become domain values
//! here, or a 4xx with every problem named (the `Idempotency-Key` header is the platform's
//! extractor, with the rules every service shares). Rules that need stored data (does the event
//! have that ticket type?) are the booking's.

use platform::query::QueryPairs;
use platform::{ApiError, AuthUser, FieldErrors};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::ValidateEmail;

use api_types::back_office::{MAX_REFUND_REASON_CHARS, RefundRequest};
use api_types::checkin::{CheckinRequest, MAX_GATE_CHARS, MAX_NONCE_CHARS};

use crate::error::TicketError;
use crate::order::{CustomerInfo, OrderStatus};
use crate::sales::OrderQuery;

/// A booking: seats of one event, held until paid or `expiresAt`.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BookBody {
    #[serde(default)]
    #[schema(required = true, format = Uuid)]
    event_id: String,
    /// One line per ticket type; at most `MAX_TICKETS_PER_ORDER` (10) tickets in all.
    #[serde(default)]
    #[schema(required = true, min_items = 1)]
    tickets: Vec<LineBody>,
    /// Defaults to the signed-in user's name and email.
    #[serde(default)]
    customer_info: Option<CustomerBody>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct LineBody {
    /// A ticket type of the event, any case; each at most once per booking.
    #[serde(default)]
    #[schema(required = true, min_length = 1, example = "General")]
    ticket_type: String,
    /// 1 to `MAX_TICKETS_PER_ORDER` (10).
    #[serde(default)]
    #[schema(required = true, minimum = 1, example = 2)]
    quantity: i64,
}

/// Empty or missing fields take the signed-in user's.
#[derive(Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct CustomerBody {
    #[serde(default)]
    #[schema(max_length = 100)]
    first_name: Option<String>,
    #[serde(default)]
    #[schema(max_length = 100)]
    last_name: Option<String>,
    #[serde(default)]
    #[schema(format = "email")]
    email: Option<String>,
    /// 6 to 20 digits; spaces, `+`, `-`, `(`, `)` and `.` allowed.
    #[serde(default)]
    phone: Option<String>,
}

/// A booking request that passed every rule that needs no data.
#[derive(Debug, Clone, PartialEq)]
pub struct BookingRequest {
    pub event_id: Uuid,
    /// Ticket type as typed (trimmed) and quantity; names are distinct in any case.
    pub lines: Vec<(String, u32)>,
    pub customer: CustomerInfo,
}

impl BookingRequest {
    /// Identifies the request for idempotency: same key, same request, same answer.
    pub fn fingerprint(&self) -> String {
        let canonical = json!({
            "eventId": self.event_id,
            "lines": self.lines,
            "customer": self.customer,
        });
        hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
    }
}

/// Adds a message for `field` (a camelCase JSON path) to the validation answer.
pub fn push(fields: &mut FieldErrors, field: impl Into<String>, message: impl Into<String>) {
    fields.entry(field.into()).or_default().push(message.into());
}

fn text(value: Option<String>, fallback: &str) -> String {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| fallback.to_string())
}

impl BookBody {
    /// Checks the request and fills in the customer from the signed-in user; at most `max`
    /// tickets in all.
    pub fn parse(self, user: &AuthUser, max: u32) -> Result<BookingRequest, ApiError> {
        let mut fields = FieldErrors::new();
        let event_id = Uuid::parse_str(self.event_id.trim()).ok();
        if event_id.is_none() {
            push(
                &mut fields,
                "eventId",
                "Choose an event (a valid event id).",
            );
        }
        let lines = lines(&self.tickets, max, &mut fields);
        let customer = customer(self.customer_info.unwrap_or_default(), user, &mut fields);
        match event_id {
            Some(event_id) if fields.is_empty() => Ok(BookingRequest {
                event_id,
                lines,
                customer,
            }),
            _ => Err(ApiError::validation(fields)),
        }
    }
}

fn lines(tickets: &[LineBody], max: u32, fields: &mut FieldErrors) -> Vec<(String, u32)> {
    if tickets.is_empty() {
        push(fields, "tickets", "Choose at least one ticket.");
    }
    let mut lines: Vec<(String, u32)> = Vec::with_capacity(tickets.len());
    let mut total: i64 = 0;
    for (i, line) in tickets.iter().enumerate() {
        let name = line.ticket_type.trim();
        if name.is_empty() {
            push(
                fields,
                format!("tickets[{i}].ticketType"),
                "Choose a ticket type.",
            );
        } else if lines.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
            push(
                fields,
                format!("tickets[{i}].ticketType"),
                "This ticket type is listed twice.",
            );
        }
        if !(1..=i64::from(max)).contains(&line.quantity) {
            push(
                fields,
                format!("tickets[{i}].quantity"),
                format!("Choose between 1 and {max} tickets."),
            );
        } else {
            total += line.quantity;
        }
        lines.push((
            name.to_string(),
            line.quantity.clamp(0, i64::from(max)) as u32,
        ));
    }
    if total > i64::from(max) {
        push(
            fields,
            "tickets",
            format!("At most {max} tickets per order."),
        );
    }
    lines
}

fn customer(c: CustomerBody, user: &AuthUser, fields: &mut FieldErrors) -> CustomerInfo {
    let customer = CustomerInfo {
        first_name: text(c.first_name, &user.first_name),
        last_name: text(c.last_name, &user.last_name),
        email: text(c.email, &user.email).to_lowercase(),
        phone: c
            .phone
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty()),
    };
    for (field, value) in [
        ("firstName", &customer.first_name),
        ("lastName", &customer.last_name),
    ] {
        if value.chars().count() > 100 {
            push(
                fields,
                format!("customerInfo.{field}"),
                "At most 100 characters.",
            );
        }
    }
    if !customer.email.validate_email() {
        push(fields, "customerInfo.email", "Enter a valid email address.");
    }
    if let Some(phone) = &customer.phone {
        let digits = phone.chars().filter(char::is_ascii_digit).count();
        let allowed = phone
            .chars()
            .all(|ch| ch.is_ascii_digit() || " +-().".contains(ch));
        if !allowed || !(6..=20).contains(&digits) {
            push(
                fields,
                "customerInfo.phone",
                "Enter a phone number of 6 to 20 digits.",
            );
        }
    }
    customer
}

platform::id_path! {
    /// The path of a route about one order, for the OpenAPI document.
    pub OrderPath("id", "order");

    /// The path of a route about one event, for the OpenAPI document.
    pub EventPath("event_id", "event");
}

/// An order id from the path; a malformed one is a 404 like an unknown one.
pub fn order_id(raw: &str) -> Result<Uuid, TicketError> {
    Uuid::parse_str(raw).map_err(|_| TicketError::OrderNotFound)
}

/// An event id from the path; a malformed one is a 404 like an unknown one.
pub fn event_id(raw: &str) -> Result<Uuid, TicketError> {
    Uuid::parse_str(raw).map_err(|_| TicketError::EventNotFound)
}

/// The note an organizer gives with a refund: trimmed, a blank one none, at most
/// [`MAX_REFUND_REASON_CHARS`] characters.
pub fn refund_reason(body: RefundRequest) -> Result<Option<String>, ApiError> {
    let reason = body
        .reason
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    if reason
        .as_ref()
        .is_some_and(|r| r.chars().count() > MAX_REFUND_REASON_CHARS)
    {
        let mut fields = FieldErrors::new();
        push(
            &mut fields,
            "reason",
            format!("At most {MAX_REFUND_REASON_CHARS} characters."),
        );
        return Err(ApiError::validation(fields));
    }
    Ok(reason)
}

/// The query of `GET /api/tickets/events/:id/orders`, for the OpenAPI document.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(
    dead_code,
    reason = "read by the OpenAPI derive only; the handler parses the raw pairs"
)]
pub struct EventOrdersParams {
    /// Only orders in this status.
    status: Option<OrderStatus>,
    /// Part of the buyer's name or email, or of the booking reference, in any case; at most
    /// 200 characters.
    q: Option<String>,
    /// From 1 (the default).
    #[param(minimum = 1)]
    page: Option<u32>,
    /// Orders per page: 20 unless given, at most 100 (a larger one is served as 100).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
}

const ORDER_QUERY_PARAMS: [&str; 4] = ["status", "q", "page", "limit"];
const MAX_SEARCH_CHARS: usize = 200;

/// The query of an event's order list from its raw pairs; empty values count as absent (what an
/// untouched form field sends). Every unknown, repeated or malformed parameter is named; the
/// paging defaults and bounds are [`OrderQuery::new`]'s.
pub fn order_query(pairs: &[(String, String)]) -> Result<OrderQuery, TicketError> {
    let mut fields = FieldErrors::new();
    let query = QueryPairs::check(pairs, &ORDER_QUERY_PARAMS, &mut fields);
    let value = |name: &str| query.value(name);
    let status = value("status").and_then(|raw| {
        let status = OrderStatus::parse(raw);
        if status.is_none() {
            push(
                &mut fields,
                "status",
                "One of pending, confirmed, cancelled, refunded.",
            );
        }
        status
    });
    let q = value("q");
    if q.is_some_and(|q| q.chars().count() > MAX_SEARCH_CHARS) {
        push(
            &mut fields,
            "q",
            format!("At most {MAX_SEARCH_CHARS} characters."),
        );
    }
    let mut number = |name: &str| {
        value(name).and_then(|raw| {
            let n = raw.parse::<u32>().ok().filter(|n| *n >= 1);
            if n.is_none() {
                push(&mut fields, name, "A whole number from 1.");
            }
            n
        })
    };
    let page = number("page");
    let limit = number("limit");
    if fields.is_empty() {
        Ok(OrderQuery::new(status, q, page, limit))
    } else {
        Err(TicketError::InvalidQuery(fields))
    }
}

#[cfg(test)]
mod tests {
    use platform::query::pairs;

    use super::*;

    fn invalid(raw: &[(&str, &str)]) -> Vec<String> {
        match order_query(&pairs(raw)) {
            Err(TicketError::InvalidQuery(fields)) => fields.into_keys().collect(),
            other => panic!("{raw:?} was taken: {other:?}"),
        }
    }

    #[test]
    fn an_order_list_query_reads_its_filters_and_leaves_paging_to_the_order_query() {
        let q = order_query(&pairs(&[
            ("status", "refunded"),
            ("q", " Ada "),
            ("page", "3"),
            ("limit", "500"),
        ]))
        .unwrap();
        assert_eq!(
            q,
            OrderQuery::new(Some(OrderStatus::Refunded), Some("ada"), Some(3), Some(100))
        );
        let blank = order_query(&pairs(&[("status", ""), ("q", " "), ("page", "")])).unwrap();
        assert_eq!(blank, OrderQuery::new(None, None, None, None));
    }

    #[test]
    fn unknown_repeated_and_malformed_parameters_are_each_named() {
        assert_eq!(invalid(&[("sort", "total")]), ["sort"]);
        assert_eq!(invalid(&[("page", "1"), ("page", "2")]), ["page"]);
        assert_eq!(
            invalid(&[("status", "paid"), ("page", "0"), ("limit", "ten")]),
            ["limit", "page", "status"]
        );
        assert_eq!(invalid(&[("q", &"x".repeat(201))]), ["q"]);
    }

    #[test]
    fn a_refund_note_is_trimmed_a_blank_one_is_none_and_a_long_one_refused() {
        let body = |r: &str| RefundRequest {
            reason: Some(r.to_string()),
        };
        assert_eq!(
            refund_reason(body("  Sick  ")).unwrap().as_deref(),
            Some("Sick")
        );
        assert_eq!(refund_reason(body("   ")).unwrap(), None);
        assert_eq!(refund_reason(RefundRequest::default()).unwrap(), None);
        assert!(refund_reason(body(&"é".repeat(MAX_REFUND_REASON_CHARS))).is_ok());
        let refused = refund_reason(body(&"é".repeat(MAX_REFUND_REASON_CHARS + 1))).unwrap_err();
        assert_eq!(refused.code, "validation_failed");
        assert!(refused.fields.contains_key("reason"));
    }
}

/// Longest scanned text accepted; a signed code is about 160 characters.
pub const MAX_SCANNED_CHARS: usize = 1024;

/// A scan's fields, checked: what [`crate::door`] resolves and stores.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanInput {
    pub event_id: Uuid,
    pub code: String,
    pub nonce: String,
    pub scanned_at: chrono::DateTime<chrono::Utc>,
    pub gate: Option<String>,
    pub direction: api_types::checkin::ScanDirection,
}

/// Checks a scan: a code, a nonce of 1 to [`MAX_NONCE_CHARS`] characters, a gate of at most
/// [`MAX_GATE_CHARS`] (blank: none). A `scannedAt` in the future (a scanner's clock ahead) is
/// taken as `now`, so no scan can claim to come after every other by lying forward; absent, it
/// is `now`.
pub fn scan(
    body: CheckinRequest,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<ScanInput, ApiError> {
    let mut fields = FieldErrors::new();
    let code = body.code.trim().to_string();
    if code.is_empty() {
        push(&mut fields, "code", "Scan or type a ticket code.");
    } else if code.chars().count() > MAX_SCANNED_CHARS {
        push(
            &mut fields,
            "code",
            format!("At most {MAX_SCANNED_CHARS} characters."),
        );
    }
    let nonce = body.nonce.trim().to_string();
    if nonce.is_empty() || nonce.chars().count() > MAX_NONCE_CHARS {
        push(
            &mut fields,
            "nonce",
            format!("1 to {MAX_NONCE_CHARS} characters, chosen once per scan."),
        );
    }
    let gate = body
        .gate
        .map(|g| g.trim().to_string())
        .filter(|g| !g.is_empty());
    if gate
        .as_ref()
        .is_some_and(|g| g.chars().count() > MAX_GATE_CHARS)
    {
        push(
            &mut fields,
            "gate",
            format!("At most {MAX_GATE_CHARS} characters."),
        );
    }
    if !fields.is_empty() {
        return Err(ApiError::validation(fields));
    }
    Ok(ScanInput {
        event_id: body.event_id,
        code,
        nonce,
        scanned_at: body.scanned_at.map_or(now, |at| at.min(now)),
        gate,
        direction: body.direction,
    })
}
