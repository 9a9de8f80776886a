//! Everything the ticket service can fail with, mapped once to the shared JSON error shape.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use platform::{ApiError, FieldErrors, StoreError};

use crate::lifecycle::RefundRefusal;

#[derive(Debug, thiserror::Error)]
pub enum TicketError {
    #[error("event not found")]
    EventNotFound,
    #[error("event not bookable: {0}")]
    EventNotBookable(&'static str),
    #[error("order not found")]
    OrderNotFound,
    #[error("sold out: {ticket_type} ({available} left)")]
    SoldOut { ticket_type: String, available: u32 },
    #[error("order is {0}")]
    OrderNotPending(&'static str),
    /// A refund of an order that is not confirmed.
    #[error("order is {0}, not confirmed")]
    OrderNotConfirmed(&'static str),
    /// The buyer may not cancel this paid order: the event's refund policy says no (any more).
    #[error(transparent)]
    RefundNotAllowed(RefundRefusal),
    /// Unknown, repeated or malformed query parameters, each named.
    #[error("invalid query parameters")]
    InvalidQuery(FieldErrors),
    #[error("idempotency key reused with another request")]
    KeyReused,
    #[error("catalogue unavailable")]
    CatalogUnavailable,
    /// Joining a waitlist while enough seats are on sale.
    #[error("not sold out: {available} left")]
    NotSoldOut { available: u32 },
    /// Joining the waitlist of an event whose organizer turned it off.
    #[error("waitlist off")]
    WaitlistOff,
    #[error("waitlist entry not found")]
    EntryNotFound,
    /// Accepting or declining an entry that holds no running offer.
    #[error("no offer: {0}")]
    NoOffer(&'static str),
    /// The waiting room: the event has no queue, the caller is not in it, the sale has not
    /// opened, a pass was refused, or the broker holding the queue does not answer.
    #[error("no waiting room")]
    NoQueue,
    #[error("not in the queue")]
    NotInQueue,
    #[error("not on sale before {0}")]
    NotOnSaleYet(chrono::DateTime<chrono::Utc>),
    #[error("queue pass refused: {}", .0.code())]
    PassRefused(crate::waiting_room::refusal::Refusal),
    #[error("waiting room unavailable")]
    QueueUnavailable,
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("store failure")]
    Store(#[from] StoreError),
}

impl IntoResponse for TicketError {
    fn into_response(self) -> Response {
        let api = match self {
            TicketError::EventNotFound => {
                ApiError::not_found("No such event.").with_code("event_not_found")
            }
            TicketError::EventNotBookable(why) => ApiError::conflict("event_not_bookable", why),
            TicketError::OrderNotFound => {
                ApiError::not_found("No such order.").with_code("order_not_found")
            }
            TicketError::SoldOut {
                ticket_type,
                available,
            } => {
                let message = if available == 0 {
                    format!("\"{ticket_type}\" is sold out.")
                } else {
                    format!("Only {available} \"{ticket_type}\" ticket(s) left.")
                };
                let mut e = ApiError::conflict("sold_out", message);
                e.fields.insert("ticketType".into(), vec![ticket_type]);
                e.fields
                    .insert("available".into(), vec![available.to_string()]);
                e
            }
            TicketError::OrderNotPending(status) => ApiError::conflict(
                "order_not_pending",
                format!("The order is {status}; it can no longer be cancelled."),
            ),
            TicketError::OrderNotConfirmed(status) => ApiError::conflict(
                "order_not_confirmed",
                format!("The order is {status}; only confirmed orders can be refunded."),
            ),
            TicketError::RefundNotAllowed(refusal) => {
                ApiError::conflict("refund_not_allowed", refusal.to_string())
            }
            TicketError::InvalidQuery(fields) => ApiError::invalid_query(fields),
            TicketError::KeyReused => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "This Idempotency-Key was used for a different request.",
            ),
            TicketError::CatalogUnavailable => ApiError::unavailable(
                "catalog_unavailable",
                "The event catalogue is not answering right now. Please try again shortly.",
            ),
            TicketError::WaitlistOff => ApiError::conflict(
                "waitlist_off",
                "The organizer has turned this event's waitlist off.",
            ),
            TicketError::NotSoldOut { available } => {
                let mut e = ApiError::conflict(
                    "not_sold_out",
                    format!("{available} ticket(s) of this type are on sale: book them instead."),
                );
                e.fields
                    .insert("available".into(), vec![available.to_string()]);
                e
            }
            TicketError::EntryNotFound => {
                ApiError::not_found("No such waitlist entry.").with_code("waitlist_entry_not_found")
            }
            TicketError::NoOffer(why) => ApiError::conflict("no_offer", why),
            TicketError::NoQueue => {
                ApiError::conflict("no_queue", "This event has no waiting room.")
            }
            TicketError::NotInQueue => {
                ApiError::not_found("You are not in this event's queue.").with_code("not_in_queue")
            }
            TicketError::NotOnSaleYet(at) => ApiError::conflict(
                "not_on_sale_yet",
                format!("Tickets go on sale at {}.", at.to_rfc3339()),
            ),
            TicketError::PassRefused(r) => {
                ApiError::new(StatusCode::FORBIDDEN, r.code(), r.message())
            }
            TicketError::QueueUnavailable => ApiError::unavailable(
                "queue_unavailable",
                "The waiting room is not answering right now. Please try again shortly.",
            ),
            TicketError::Api(e) => e,
            TicketError::Store(ref e) => ApiError::internal(e),
        };
        api.into_response()
    }
}

/// How the errors of a route that needs a session answer (`responses(..., SessionErrors)`).
pub use platform::openapi::SessionErrors;

platform::error_answers! {
    /// How the errors of a route that needs a session and may learn an event from the catalogue
    /// answer, for the OpenAPI document.
    pub SessionCatalogErrors: platform::openapi::NoSession, platform::openapi::InternalError {
        503 => "`auth_unavailable` (the session cannot be checked right now) or \
                `catalog_unavailable` (the event service does not answer).",
    }

    /// How a public route that reads an event answers when it cannot, for the OpenAPI document.
    pub PublicEventErrors: platform::openapi::InternalError {
        404 => "`event_not_found`: unknown event, or a draft.",
        503 => "`catalog_unavailable`: the event service does not answer.",
    }

    /// How the errors of the waiting room's routes answer, for the OpenAPI document.
    pub QueueErrors: platform::openapi::NoSession, platform::openapi::InternalError {
        404 => "`event_not_found`: unknown event, or not public; `not_in_queue`: the caller has \
                not joined (asking for a place before joining).",
        409 => "`no_queue`: the event has no waiting room.",
        503 => "`auth_unavailable`, `catalog_unavailable` or `queue_unavailable` (the broker \
                holding the queue does not answer).",
    }

    /// The answer to an order the caller may not see, for the OpenAPI document.
    pub UnknownOrder {
        404 => "`order_not_found`: no such order, or not the caller's.",
    }

    /// The answer to an event the caller may not manage, for the OpenAPI document.
    pub UnmanagedEvent {
        404 => "`event_not_found`: no such event (unknown, draft or malformed id), or the caller \
                is neither its organizer nor an admin.",
    }

    /// The answer to an event the caller may not work the door of, for the OpenAPI document.
    pub UnscannableEvent {
        404 => "`event_not_found`: no such event (unknown, draft or malformed id), or the caller \
                is neither its organizer, an admin nor check-in staff it named.",
    }
}
