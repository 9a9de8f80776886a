//! The organizer's back office of one event: refunding an order
//! (`POST /api/tickets/orders/:id/refund`), the event's orders
//! (`GET /api/tickets/events/:id/orders`), its attendees as CSV
//! (`GET /api/tickets/events/:id/attendees.csv`) and its summary
//! (`GET /api/tickets/events/:id/summary`). Only the event's organizer and admins get an answer
//! (the attendee list also goes to the check-in staff the organizer named, who work the door but
//! see no money); for anyone else the event (or order) does not exist, so ids don't leak.

use api_types::back_office::{EventOrdersResponse, EventSummary, RefundRequest};
use api_types::orders::OrderResponse;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use platform::AuthUser;
use platform::openapi::{ErrorBody, MalformedJson};
use platform::query::RawQuery;
use platform::trace::TraceParent;

use super::orders::order_answer;
use crate::error::{
    SessionCatalogErrors, SessionErrors, TicketError, UnmanagedEvent, UnscannableEvent,
};
use crate::input::{self, EventOrdersParams, EventPath, OrderPath};
use crate::order::OrderDetails;
use crate::state::AppState;
use crate::store::{EventInfo, EventStock};
use crate::{attendees, cancellation, catalog, door, summary, view};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/tickets/orders/{id}/refund", post(refund_order))
        .route("/api/tickets/events/{event_id}/orders", get(event_orders))
        .route(
            "/api/tickets/events/{event_id}/attendees.csv",
            get(attendees_csv),
        )
        .route("/api/tickets/events/{event_id}/summary", get(event_summary))
}

/// Whether `user` may run the back office of `event`: its organizer, or an admin. An event whose
/// organizer is not known (stored before the catalogue said) is the admins' alone.
fn may_manage(event: &EventInfo, user: &AuthUser) -> bool {
    user.is_admin() || event.organizer_id == Some(user.id)
}

/// The event if the caller may manage it, learning it from the catalogue on first sight (so a
/// published event without orders has a summary too); 404 otherwise.
pub(crate) async fn managed_event(
    state: &AppState,
    user: &AuthUser,
    event_id: &str,
) -> Result<EventStock, TicketError> {
    let stock = catalog::event_stock(state, input::event_id(event_id)?).await?;
    if may_manage(&stock.event, user) {
        Ok(stock)
    } else {
        Err(TicketError::EventNotFound)
    }
}

/// The order if the caller may manage its event; 404 otherwise.
async fn managed_order(
    state: &AppState,
    user: &AuthUser,
    order_id: &str,
) -> Result<OrderDetails, TicketError> {
    let details = state
        .store
        .order(input::order_id(order_id)?)
        .await?
        .ok_or(TicketError::OrderNotFound)?;
    match state.store.event_stock(details.order.event_id).await? {
        Some(stock) if may_manage(&stock.event, user) => Ok(details),
        _ => Err(TicketError::OrderNotFound),
    }
}

/// Refund an order
///
/// For the event's organizer or an admin. The confirmed order is cancelled (`organizer_refund`,
/// published on `orders.cancelled`): its seats go back on sale, its tickets are void, and the
/// payment service refunds its payment, after which the order reads `refunded` with its
/// `refund`. The `reason` is a note for the logs, not shown to the buyer.
#[utoipa::path(
    post,
    path = "/api/tickets/orders/{id}/refund",
    tag = "organizer",
    params(OrderPath),
    security(("cookieAuth" = [])),
    request_body = RefundRequest,
    responses(
        (status = 202, description = "The cancelled order; its refund is on its way.", body = OrderResponse),
        MalformedJson,
        (status = 404, description = "`order_not_found`: no such order, or the caller is neither the organizer of its event nor an admin.", body = ErrorBody),
        (status = 409, description = "`order_not_confirmed`: the order is pending, cancelled or refunded already.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body is not `application/json`.", body = ErrorBody),
        (status = 422, description = "`validation_failed`: `fields.reason` is over 500 characters; `invalid_body`: a field has the wrong JSON type.", body = ErrorBody),
        SessionErrors,
    )
)]
pub(crate) async fn refund_order(
    State(state): State<AppState>,
    user: AuthUser,
    TraceParent(traceparent): TraceParent,
    Path(id): Path<String>,
    platform::extract::Json(body): platform::extract::Json<RefundRequest>,
) -> Result<(StatusCode, Json<OrderResponse>), TicketError> {
    let order = managed_order(&state, &user, &id).await?.order;
    let note = input::refund_reason(body)?;
    let details = cancellation::by_organizer(&state, order.id, &traceparent).await?;
    tracing::info!(order_id = %order.id, by = %user.id, note = note.as_deref().unwrap_or(""),
        "order cancelled for a refund by the organizer");
    Ok((StatusCode::ACCEPTED, order_answer(&details)))
}

/// An event's orders
///
/// For the event's organizer or an admin: newest first, a page at a time, with the buyer's name
/// and email. `q` finds a part of the buyer's name or email or of the booking reference, in any
/// case.
#[utoipa::path(
    get,
    path = "/api/tickets/events/{event_id}/orders",
    tag = "organizer",
    params(EventPath, EventOrdersParams),
    security(("cookieAuth" = [])),
    responses(
        (status = 200, description = "The page of orders and how many match in all.", body = EventOrdersResponse),
        (status = 400, description = "`invalid_query`: an unknown, repeated or malformed parameter; `fields` names every one.", body = ErrorBody),
        UnmanagedEvent,
        SessionCatalogErrors,
    )
)]
pub(crate) async fn event_orders(
    State(state): State<AppState>,
    user: AuthUser,
    Path(event_id): Path<String>,
    query: RawQuery,
) -> Result<Json<EventOrdersResponse>, TicketError> {
    let stock = managed_event(&state, &user, &event_id).await?;
    let pairs = platform::query::read(query).map_err(TicketError::InvalidQuery)?;
    let query = input::order_query(&pairs)?;
    let page = state.store.orders_of_event(stock.event.id, &query).await?;
    Ok(Json(view::event_orders(&page, &query)))
}

/// An event's attendees (CSV)
///
/// For the event's organizer, an admin or its check-in staff: `text/csv` (RFC 4180), a header
/// row
/// `code,ticket_type,holder_name,holder_email,booking_reference,order_status,checked_in_at,checked_in_gate`,
/// then one row per e-ticket in booking order, void ones too (their order `cancelled` or
/// `refunded`). `checked_in_at` (RFC 3339, UTC) and `checked_in_gate` are the ticket's first
/// entry (its earliest scan), empty until it entered.
#[utoipa::path(
    get,
    path = "/api/tickets/events/{event_id}/attendees.csv",
    tag = "organizer",
    params(EventPath),
    security(("cookieAuth" = [])),
    responses(
        (status = 200, description = "The attendee list, as a download (`Content-Disposition: attachment; filename=\"attendees-<event id>.csv\"`).", content_type = "text/csv", body = String),
        UnscannableEvent,
        SessionCatalogErrors,
    )
)]
pub(crate) async fn attendees_csv(
    State(state): State<AppState>,
    user: AuthUser,
    Path(event_id): Path<String>,
) -> Result<Response, TicketError> {
    let id = door::door_event_at(&state, &user, &event_id)
        .await?
        .event
        .id;
    let tickets = state.store.tickets_of_event(id).await?;
    let body = attendees::csv(&tickets);
    Ok((
        [
            (header::CONTENT_TYPE, attendees::CONTENT_TYPE.to_string()),
            (header::CONTENT_DISPOSITION, attendees::disposition(id)),
        ],
        body,
    )
        .into_response())
}

/// An event's summary
///
/// For the event's organizer or an admin: seats per ticket type, orders per status, gross,
/// refunded and net revenue in exact minor units, paid orders per day (UTC, by the time of
/// payment), and check-ins at the door per ticket type, gate and minute of first entry.
#[utoipa::path(
    get,
    path = "/api/tickets/events/{event_id}/summary",
    tag = "organizer",
    params(EventPath),
    security(("cookieAuth" = [])),
    responses(
        (status = 200, description = "The event's summary.", body = EventSummary),
        UnmanagedEvent,
        SessionCatalogErrors,
    )
)]
pub(crate) async fn event_summary(
    State(state): State<AppState>,
    user: AuthUser,
    Path(event_id): Path<String>,
) -> Result<Json<EventSummary>, TicketError> {
    let stock = managed_event(&state, &user, &event_id).await?;
    let sales = state.store.sales_of_event(stock.event.id).await?;
    let tickets = state.store.tickets_of_event(stock.event.id).await?;
    Ok(Json(view::summary(&summary::summarize(
        &stock, &sales, &tickets,
    ))))
}
