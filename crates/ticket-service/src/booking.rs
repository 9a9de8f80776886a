//! The booking steps, in order: the request (checked by [`crate::input`]) -> the event and its
//! stock (learned from the catalogue on first sight) -> the pending order, priced by the
//! catalogue and held until `expiresAt` -> stored with its seat holds in one atomic unit. Under an
//! `Idempotency-Key` the answer is stored with the order, so a retry of the same request gets the
//! first answer again and another request with that key is refused. The store runs the key
//! check, the stock read, the draft of the order and its storing as one call
//! ([`crate::store::TicketStore::place`]), so a booking costs one trip to the database writer.

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use platform::{ApiError, FieldErrors, IdempotencyKey};
use uuid::Uuid;

use crate::config::TicketConfig;
use crate::error::TicketError;
use crate::input::{BookingRequest, push};
use crate::order::{self, Order, OrderLine, OrderStatus};
use crate::state::AppState;
use crate::store::{
    BookResult, Booking, Draft, EventInfo, EventStatus, EventStock, IdempotencyRecord, Placed,
    Stock, StoredResponse,
};
use crate::{catalog, codes, view};

/// Booking references are random; after this many taken ones in a row something is wrong.
pub(crate) const REFERENCE_TRIES: usize = 5;

/// The validation message of an order whose amounts do not fit.
const TOO_LARGE: &str = "This order's total is too large.";

/// The answer to a booking: the JSON of a new order, or the stored answer replayed.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: StatusCode,
    pub body: String,
    pub replayed: bool,
}

/// Counts a booking request by outcome: `created`, `replayed` (an idempotent retry),
/// `sold_out`, `rejected` (the request or the event does not allow it) or `failed` (our side).
pub fn count(booked: &Result<Answer, TicketError>) {
    let outcome = match booked {
        Ok(answer) if answer.replayed => "replayed",
        Ok(_) => "created",
        Err(TicketError::SoldOut { .. }) => "sold_out",
        Err(TicketError::Store(_) | TicketError::CatalogUnavailable) => "failed",
        Err(TicketError::Api(e)) if e.status.is_server_error() => "failed",
        Err(_) => "rejected",
    };
    platform::metrics::counter!(platform::metrics::names::BOOKINGS, "outcome" => outcome)
        .increment(1);
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        platform::idempotency::stored_json(self.status, self.body, self.replayed)
    }
}

/// Books `request` for `user_id`: every step above, in order.
pub async fn book(
    state: &AppState,
    user_id: Uuid,
    request: BookingRequest,
    key: Option<IdempotencyKey>,
    incoming_trace: Option<&str>,
) -> Result<Answer, TicketError> {
    let plan = Arc::new(Plan {
        fingerprint: request.fingerprint(),
        request,
        user_id,
        key: key.map(IdempotencyKey::into_string),
        hold: hold(&state.config),
        incoming_trace: incoming_trace.map(str::to_string),
    });
    let event_id = plan.request.event_id;
    let mut learned = false;
    let mut tries = 0;
    loop {
        let key = plan.key.as_deref().map(|key| (user_id, key));
        let (booking, result) = match state.store.place(event_id, key, draft(&plan)).await? {
            Placed::Tried(booking, result) => (booking, result),
            Placed::KeyUsed(stored) => return replay(stored, &plan.fingerprint),
            Placed::Refused(refused) => return Err(refused),
            Placed::UnknownEvent if !learned => {
                catalog::learn(state, event_id).await?;
                learned = true;
                continue;
            }
            Placed::UnknownEvent => return Err(TicketError::EventNotFound),
        };
        match result {
            BookResult::Booked => {
                state.outbox_wake.notify_one();
                return answer(*booking);
            }
            BookResult::SoldOut {
                ticket_type,
                available,
            } => {
                return Err(TicketError::SoldOut {
                    ticket_type,
                    available,
                });
            }
            BookResult::KeyUsed(stored) => return replay(stored, &plan.fingerprint),
            BookResult::EventClosed => {
                return Err(TicketError::EventNotBookable(
                    "This event is no longer on sale.",
                ));
            }
            BookResult::ReferenceTaken => {
                tries += 1;
                if tries == REFERENCE_TRIES {
                    return Err(ApiError::internal(&std::io::Error::other(format!(
                        "no free booking reference after {REFERENCE_TRIES} tries"
                    )))
                    .into());
                }
            }
        }
    }
}

/// What a booking request asks, to be drafted on the stock the store reads.
struct Plan {
    request: BookingRequest,
    fingerprint: String,
    user_id: Uuid,
    key: Option<String>,
    hold: chrono::Duration,
    incoming_trace: Option<String>,
}

/// The pending order for `plan` on the stock the store holds, with its answer stored under the
/// idempotency key (when there is one) and its trace. Each draft draws a new booking reference.
fn draft(plan: &Arc<Plan>) -> Draft {
    let plan = plan.clone();
    Box::new(move |stock| {
        let order = new_order(
            stock,
            plan.request.clone(),
            plan.user_id,
            platform::time::now(),
            plan.hold,
        )?;
        let idempotency = match &plan.key {
            Some(key) => Some(IdempotencyRecord {
                user_id: order.user_id,
                key: key.clone(),
                response: StoredResponse {
                    request_hash: plan.fingerprint.clone(),
                    status: StatusCode::CREATED.as_u16(),
                    body: body(&order)?,
                },
            }),
            None => None,
        };
        let traceparent =
            platform::trace::continue_or_root(plan.incoming_trace.as_deref(), order.id);
        Ok(Booking {
            order,
            idempotency,
            traceparent: Some(traceparent),
        })
    })
}

fn body(order: &Order) -> Result<String, TicketError> {
    Ok(serde_json::to_string(&view::booking(order)).map_err(|e| ApiError::internal(&e))?)
}

/// The answer to a new booking: the one stored under its key, else made now (outside the store
/// call, which need not wait for it).
fn answer(booking: Booking) -> Result<Answer, TicketError> {
    let body = match booking.idempotency {
        Some(record) => record.response.body,
        None => body(&booking.order)?,
    };
    Ok(Answer {
        status: StatusCode::CREATED,
        body,
        replayed: false,
    })
}

pub(crate) fn hold(config: &TicketConfig) -> chrono::Duration {
    chrono::Duration::from_std(config.hold).unwrap_or(chrono::Duration::minutes(15))
}

/// The stored answer, if it answered this very request.
fn replay(stored: StoredResponse, fingerprint: &str) -> Result<Answer, TicketError> {
    if stored.request_hash != fingerprint {
        return Err(TicketError::KeyReused);
    }
    Ok(Answer {
        status: StatusCode::from_u16(stored.status).unwrap_or(StatusCode::CREATED),
        body: stored.body,
        replayed: true,
    })
}

/// Only a published event that has not started sells; a draft is not there at all.
pub(crate) fn bookable(event: &EventInfo, now: DateTime<Utc>) -> Result<(), TicketError> {
    if event.status == EventStatus::Cancelled {
        return Err(TicketError::EventNotBookable(
            "This event has been cancelled.",
        ));
    }
    if !event.status.is_on_sale() {
        return Err(TicketError::EventNotFound);
    }
    if event.date_time <= now {
        return Err(TicketError::EventNotBookable(
            "This event has already started.",
        ));
    }
    Ok(())
}

/// Each requested line as a ticket type of the event (matched in any case, named and priced as
/// the catalogue has it), or every line the event does not sell.
fn priced_lines(stock: &[Stock], requested: &[(String, u32)]) -> Result<Vec<OrderLine>, ApiError> {
    let mut fields = FieldErrors::new();
    let mut lines = Vec::with_capacity(requested.len());
    for (i, (name, quantity)) in requested.iter().enumerate() {
        match stock
            .iter()
            .find(|s| s.ticket_type.eq_ignore_ascii_case(name))
        {
            Some(s) => match OrderLine::new(s.ticket_type.clone(), s.price, *quantity) {
                Some(line) => lines.push(line),
                None => push(&mut fields, "tickets", TOO_LARGE),
            },
            None => push(
                &mut fields,
                format!("tickets[{i}].ticketType"),
                format!("This event has no ticket type \"{name}\"."),
            ),
        }
    }
    if fields.is_empty() {
        Ok(lines)
    } else {
        Err(ApiError::validation(fields))
    }
}

/// The pending order for `request`, held from `now` for `hold`.
pub fn new_order(
    stock: &EventStock,
    request: BookingRequest,
    user_id: Uuid,
    now: DateTime<Utc>,
    hold: chrono::Duration,
) -> Result<Order, TicketError> {
    let event = &stock.event;
    bookable(event, now)?;
    let lines = priced_lines(&stock.stock, &request.lines)?;
    let total_amount = order::total(&lines, event.currency)
        .ok_or_else(|| ApiError::field("tickets", TOO_LARGE))?;
    Ok(Order {
        id: Uuid::now_v7(),
        user_id,
        event_id: event.id,
        event_title: event.title.clone(),
        event_date_time: event.date_time,
        booking_reference: codes::booking_reference(),
        status: OrderStatus::Pending,
        cancel_reason: None,
        total_amount,
        lines,
        customer: request.customer,
        payment_id: None,
        failed_payments: 0,
        expires_at: now + hold,
        created_at: now,
        updated_at: now,
        paid_at: None,
        cancelled_at: None,
        refund: None,
    })
}

#[cfg(test)]
mod tests {
    use platform::money::{Currency, Money};

    use super::*;
    use crate::order::CustomerInfo;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn eur(minor: i64) -> Money {
        Money::from_minor_units(minor, Currency::parse("EUR").unwrap())
    }

    fn event(status: EventStatus, date_time: &str) -> EventStock {
        let stock = |name: &str, minor| Stock {
            ticket_type: name.into(),
            price: eur(minor),
            capacity: 100,
            sold: 0,
            held: 0,
        };
        EventStock {
            event: EventInfo {
                id: Uuid::now_v7(),
                title: "Jazz night".into(),
                date_time: at(date_time),
                status,
                version: 1,
                currency: Currency::parse("EUR").unwrap(),
                ticket_types: Vec::new(),
                organizer_id: None,
                refund_policy: Default::default(),
                waitlist_enabled: true,
            },
            stock: vec![stock("General", 2550), stock("VIP", 9900)],
        }
    }

    fn request(lines: &[(&str, u32)]) -> BookingRequest {
        BookingRequest {
            event_id: Uuid::now_v7(),
            lines: lines.iter().map(|(n, q)| (n.to_string(), *q)).collect(),
            customer: CustomerInfo::sample(),
        }
    }

    const NOW: &str = "2030-05-01T12:00:00Z";

    fn book(stock: &EventStock, lines: &[(&str, u32)]) -> Result<Order, TicketError> {
        let user = Uuid::now_v7();
        new_order(
            stock,
            request(lines),
            user,
            at(NOW),
            chrono::Duration::minutes(15),
        )
    }

    #[test]
    fn a_booking_is_pending_priced_by_the_catalogue_and_held_for_the_hold_time() {
        let stock = event(EventStatus::Published, "2030-06-01T19:30:00Z");
        let order = book(&stock, &[("general", 2), ("VIP", 1)]).unwrap();
        assert_eq!(order.status, OrderStatus::Pending);
        assert_eq!(order.event_id, stock.event.id);
        assert_eq!(order.currency().as_str(), "EUR");
        assert_eq!(
            order
                .lines
                .iter()
                .map(|l| (l.ticket_type.as_str(), l.quantity, l.unit_price, l.subtotal))
                .collect::<Vec<_>>(),
            vec![
                ("General", 2, eur(2550), eur(5100)),
                ("VIP", 1, eur(9900), eur(9900))
            ]
        );
        assert_eq!(order.total_amount, eur(15000));
        assert_eq!(order.created_at, at(NOW));
        assert_eq!(order.expires_at, at("2030-05-01T12:15:00Z"));
        assert_eq!(order.booking_reference.len(), "TK-7KQ2M9XD".len());
    }

    #[test]
    fn every_ticket_type_the_event_does_not_sell_is_named() {
        let stock = event(EventStatus::Published, "2030-06-01T19:30:00Z");
        let Err(TicketError::Api(e)) = book(&stock, &[("Balcony", 1), ("General", 1), ("Pit", 2)])
        else {
            panic!("unknown ticket types are a validation error");
        };
        assert_eq!(e.code, "validation_failed");
        assert_eq!(
            e.fields.keys().collect::<Vec<_>>(),
            ["tickets[0].ticketType", "tickets[2].ticketType"]
        );
    }

    #[test]
    fn a_cancelled_or_started_event_is_not_bookable_and_a_draft_is_not_there() {
        let cancelled = event(EventStatus::Cancelled, "2030-06-01T19:30:00Z");
        let started = event(EventStatus::Published, NOW);
        let draft = event(EventStatus::Draft, "2030-06-01T19:30:00Z");
        assert!(matches!(
            book(&cancelled, &[("General", 1)]),
            Err(TicketError::EventNotBookable(
                "This event has been cancelled."
            ))
        ));
        assert!(matches!(
            book(&started, &[("General", 1)]),
            Err(TicketError::EventNotBookable(
                "This event has already started."
            ))
        ));
        assert!(matches!(
            book(&draft, &[("General", 1)]),
            Err(TicketError::EventNotFound)
        ));
    }

    #[test]
    fn a_stored_answer_replays_only_for_the_request_that_made_it() {
        let stored = StoredResponse {
            request_hash: "abc".into(),
            status: 201,
            body: r#"{"orderId":"x"}"#.into(),
        };
        let answer = replay(stored.clone(), "abc").unwrap();
        assert_eq!(
            answer,
            Answer {
                status: StatusCode::CREATED,
                body: stored.body.clone(),
                replayed: true
            }
        );
        assert!(matches!(
            replay(stored, "another request"),
            Err(TicketError::KeyReused)
        ));
    }

    #[test]
    fn an_order_whose_amounts_do_not_fit_is_refused() {
        let mut stock = event(EventStatus::Published, "2030-06-01T19:30:00Z");
        stock.stock[0].price = eur(i64::MAX - 100);
        let Err(TicketError::Api(e)) = book(&stock, &[("General", 3)]) else {
            panic!("an overflowing line is a validation error");
        };
        assert_eq!(e.fields["tickets"], [TOO_LARGE]);
        let Err(TicketError::Api(e)) = book(&stock, &[("General", 1), ("VIP", 1)]) else {
            panic!("an overflowing total is a validation error");
        };
        assert_eq!(e.fields["tickets"], [TOO_LARGE]);
    }
}
