//! Booking and the buyer's own orders: `POST /api/tickets/book`, `GET /api/tickets/orders`,
//! `GET /api/tickets/orders/:id`, `POST /api/tickets/orders/:id/cancel` (a pending order, or a
//! paid one for a refund while the event's refund policy allows it). Handlers only extract,
//! call the step that does the work and convert the result into its answer type.

use api_types::orders::{BookingResponse, OrderResponse, OrdersResponse};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use contracts::orders::CancelReason;
use platform::extract::Json as JsonBody;
use platform::openapi::{BodyRejected, ErrorBody, InternalError, NoSession};
use platform::trace::{IncomingTrace, TraceParent};
use platform::{AuthUser, IdempotencyKey};

use crate::booking::{self, Answer};
use crate::error::{SessionErrors, TicketError, UnknownOrder};
use crate::input::{self, BookBody, OrderPath};
use crate::order::OrderDetails;
use crate::state::AppState;
use crate::view;
use crate::waiting_room::{QueuePass, WaitingRoom};
use crate::{cancellation, door};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/tickets/book", post(book))
        .route("/api/tickets/orders", get(my_orders))
        .route("/api/tickets/orders/{id}", get(show_order))
        .route("/api/tickets/orders/{id}/cancel", post(cancel_order))
}

/// Book tickets
///
/// Prices come from the catalogue. All lines are reserved at once or not at all; the order is
/// `pending` and its seats are held until `expiresAt` (`HOLD_SECS`, 15 minutes by default).
/// With an `Idempotency-Key`, a retry of the same request gets the first answer again.
#[utoipa::path(
    post,
    path = "/api/tickets/book",
    tag = "orders",
    security(("cookieAuth" = [])),
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "1 to 255 characters; the same key with the same request replays the first answer, with another request it is refused (422)."),
        ("Queue-Pass" = Option<String>, Header, description = "While the event's waiting room is on: the pass `GET /api/tickets/events/{eventId}/queue` gave the caller once admitted. One booking per pass; a booking that fails gives it back, and a retry with the same `Idempotency-Key` replays the first answer."),
    ),
    request_body = BookBody,
    responses(
        (status = 201, description = "Booked: the order is pending until paid or expired.", body = BookingResponse,
            headers(("Idempotent-Replayed" = String, description = "`true` when this is the stored answer to an earlier request with the same `Idempotency-Key`."))),
        (status = 400, description = "`malformed_json`: the body is not JSON; `invalid_idempotency_key`.", body = ErrorBody),
        NoSession,
        (status = 403, description = "The event's waiting room is on: `queue_pass_required` (no `Queue-Pass`), `queue_pass_invalid` (forged, expired, or another visitor's or event's), `queue_pass_used` (it already booked).", body = ErrorBody),
        (status = 404, description = "`event_not_found`: no such event on sale (unknown, draft or malformed id).", body = ErrorBody),
        (status = 409, description = "`sold_out` (`fields.ticketType` and `fields.available` say which and how many are left) or `event_not_bookable` (cancelled, started or no longer on sale) or `not_on_sale_yet` (before the event's `onSaleAt`).", body = ErrorBody),
        BodyRejected,
        (status = 422, description = "`validation_failed`: `fields` names each problem (`eventId`, `tickets`, `tickets[0].ticketType`, `tickets[0].quantity`, `customerInfo.email`, ...); `invalid_body`: a field has the wrong JSON type; `idempotency_key_reused`: the key was used for another request.", body = ErrorBody),
        (status = 503, description = "`auth_unavailable`, `catalog_unavailable` (the event service does not answer) or `queue_unavailable` (the broker holding the waiting room does not answer).", body = ErrorBody),
        InternalError,
    )
)]
pub(crate) async fn book(
    State(state): State<AppState>,
    user: AuthUser,
    IncomingTrace(incoming): IncomingTrace,
    key: Option<IdempotencyKey>,
    QueuePass(pass): QueuePass,
    JsonBody(body): JsonBody<BookBody>,
) -> Result<Answer, TicketError> {
    let booked = match body.parse(&user, state.config.max_tickets_per_order) {
        Ok(request) => {
            let event_id = request.event_id;
            let replay_key = key.as_ref().map(|k| k.as_str().to_owned());
            let book = booking::book(&state, user.id, request, key, incoming.as_deref());
            let (pass, replay_key) = (pass.as_deref(), replay_key.as_deref());
            WaitingRoom::gate(&state, event_id, user.id, pass, replay_key, book).await
        }
        Err(e) => Err(e.into()),
    };
    booking::count(&booked);
    booked
}

/// The caller's orders
///
/// Newest first, each with a snapshot of its event's title and date.
#[utoipa::path(
    get,
    path = "/api/tickets/orders",
    tag = "orders",
    security(("cookieAuth" = [])),
    responses(
        (status = 200, description = "The caller's orders.", body = OrdersResponse),
        SessionErrors,
    )
)]
pub(crate) async fn my_orders(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<OrdersResponse>, TicketError> {
    let orders = state.store.orders_of_user(user.id).await?;
    let orders: Vec<_> = orders.iter().map(view::order).collect();
    Ok(Json(OrdersResponse {
        total: orders.len() as u64,
        orders,
    }))
}

/// The order if the caller may see it (its buyer or an admin); 404 otherwise, so order ids
/// don't leak.
async fn visible_order(
    state: &AppState,
    user: &AuthUser,
    id: &str,
) -> Result<OrderDetails, TicketError> {
    let id = input::order_id(id)?;
    match state.store.order(id).await? {
        Some(d) if d.order.user_id == user.id || user.is_admin() => Ok(d),
        _ => Err(TicketError::OrderNotFound),
    }
}

pub(crate) fn order_answer(details: &OrderDetails) -> Json<OrderResponse> {
    Json(OrderResponse {
        order: view::order_details(details),
    })
}

/// One order
///
/// With its payment attempts and, once confirmed, its e-tickets, each with the signed code its
/// QR code shows (`signedCode`; void tickets have none). To its owner or an admin; 404 for
/// everyone else.
#[utoipa::path(
    get,
    path = "/api/tickets/orders/{id}",
    tag = "orders",
    params(OrderPath),
    security(("cookieAuth" = [])),
    responses(
        (status = 200, description = "The order.", body = OrderResponse),
        UnknownOrder,
        SessionErrors,
    )
)]
pub(crate) async fn show_order(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<OrderResponse>, TicketError> {
    let mut details = visible_order(&state, &user, &id).await?;
    door::sign_tickets(&state, &mut details).await?;
    Ok(order_answer(&details))
}

/// Cancel an order
///
/// A pending order is cancelled outright (`user_cancelled`; its held seats go back on sale): 200.
/// A confirmed order is cancelled for a refund (`buyer_refund`) while the event's refund policy
/// allows it: 202, the order is `cancelled`, its tickets void, and it reads `refunded` once the
/// payment service has refunded it. Both are published on `orders.cancelled`.
#[utoipa::path(
    post,
    path = "/api/tickets/orders/{id}/cancel",
    tag = "orders",
    params(OrderPath),
    security(("cookieAuth" = [])),
    responses(
        (status = 200, description = "The cancelled order (it was pending).", body = OrderResponse),
        (status = 202, description = "The cancelled order (it was paid); its refund is on its way.", body = OrderResponse),
        (status = 409, description = "`order_not_pending`: the order is cancelled or refunded already; `refund_not_allowed`: the order is paid and the event's refund policy offers no refund (any more); the message says until when it did.", body = ErrorBody),
        UnknownOrder,
        SessionErrors,
    )
)]
pub(crate) async fn cancel_order(
    State(state): State<AppState>,
    user: AuthUser,
    TraceParent(traceparent): TraceParent,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<OrderResponse>), TicketError> {
    let details = visible_order(&state, &user, &id).await?;
    let (reason, details) = cancellation::by_buyer(&state, &details.order, &traceparent).await?;
    let status = if reason == CancelReason::BuyerRefund {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    Ok((status, order_answer(&details)))
}
