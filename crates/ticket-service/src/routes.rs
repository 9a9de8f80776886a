//! The HTTP routes of the ticket service.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use contracts::orders::CancelReason;
use platform::extract::Json as JsonBody;
use platform::openapi::ErrorBody;
use platform::trace::{IncomingTrace, TraceParent};
use platform::{ApiError, AuthUser, FieldErrors};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::ValidateEmail;

use crate::app::AppState;
use crate::error::TicketError;
use crate::openapi::{Availability, BookingResponse, OrderResponse, OrdersResponse};
use crate::order::{CustomerInfo, Order, OrderLine, OrderStatus};
use crate::store::{
    BookResult, Booking, EventStatus, EventStock, IdempotencyRecord, StoredResponse, Transition,
};
use crate::view;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/tickets/book", post(book))
        .route("/api/tickets/orders", get(my_orders))
        .route("/api/tickets/orders/{id}", get(show_order))
        .route("/api/tickets/orders/{id}/cancel", post(cancel_order))
        .route(
            "/api/tickets/events/{event_id}/availability",
            get(availability),
        )
        .route(
            "/api/tickets/events/{event_id}/availability/stream",
            get(availability_stream),
        )
        .route("/api/tickets/openapi.json", get(crate::openapi::serve))
}

/// A booking: seats of one event, held until paid or `expiresAt`.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct BookBody {
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
#[derive(Deserialize, ToSchema)]
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
struct BookingRequest {
    event_id: Uuid,
    lines: Vec<(String, u32)>,
    customer: CustomerInfo,
}

impl BookingRequest {
    /// Identifies the request for idempotency: same key, same request, same answer.
    fn fingerprint(&self) -> String {
        let canonical = json!({
            "eventId": self.event_id,
            "lines": self.lines,
            "customer": self.customer,
        });
        hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
    }
}

fn push(fields: &mut FieldErrors, field: impl Into<String>, message: impl Into<String>) {
    fields.entry(field.into()).or_default().push(message.into());
}

fn text(value: Option<String>, fallback: &str) -> String {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| fallback.to_string())
}

fn parse_booking(body: BookBody, user: &AuthUser, max: u32) -> Result<BookingRequest, ApiError> {
    let mut fields = FieldErrors::new();
    let event_id = Uuid::parse_str(body.event_id.trim()).ok();
    if event_id.is_none() {
        push(
            &mut fields,
            "eventId",
            "Choose an event (a valid event id).",
        );
    }
    if body.tickets.is_empty() {
        push(&mut fields, "tickets", "Choose at least one ticket.");
    }
    let mut lines: Vec<(String, u32)> = Vec::with_capacity(body.tickets.len());
    let mut total: i64 = 0;
    for (i, line) in body.tickets.iter().enumerate() {
        let name = line.ticket_type.trim();
        if name.is_empty() {
            push(
                &mut fields,
                format!("tickets[{i}].ticketType"),
                "Choose a ticket type.",
            );
        } else if lines.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
            push(
                &mut fields,
                format!("tickets[{i}].ticketType"),
                "This ticket type is listed twice.",
            );
        }
        if !(1..=i64::from(max)).contains(&line.quantity) {
            push(
                &mut fields,
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
            &mut fields,
            "tickets",
            format!("At most {max} tickets per order."),
        );
    }
    let c = body.customer_info.unwrap_or(CustomerBody {
        first_name: None,
        last_name: None,
        email: None,
        phone: None,
    });
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
                &mut fields,
                format!("customerInfo.{field}"),
                "At most 100 characters.",
            );
        }
    }
    if !customer.email.validate_email() {
        push(
            &mut fields,
            "customerInfo.email",
            "Enter a valid email address.",
        );
    }
    if let Some(phone) = &customer.phone {
        let digits = phone.chars().filter(char::is_ascii_digit).count();
        let allowed = phone
            .chars()
            .all(|ch| ch.is_ascii_digit() || " +-().".contains(ch));
        if !allowed || !(6..=20).contains(&digits) {
            push(
                &mut fields,
                "customerInfo.phone",
                "Enter a phone number of 6 to 20 digits.",
            );
        }
    }
    match event_id {
        Some(event_id) if fields.is_empty() => Ok(BookingRequest {
            event_id,
            lines,
            customer,
        }),
        _ => Err(ApiError::validation(fields)),
    }
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(raw) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    match raw.to_str().map(str::trim) {
        Ok(key) if (1..=255).contains(&key.len()) => Ok(Some(key.to_string())),
        _ => Err(ApiError::bad_request(
            "invalid_idempotency_key",
            "Idempotency-Key must be 1 to 255 visible characters.",
        )),
    }
}

fn replay(stored: StoredResponse, fingerprint: &str) -> Result<Response, TicketError> {
    if stored.request_hash != fingerprint {
        return Err(TicketError::KeyReused);
    }
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::CREATED);
    Ok((
        status,
        [
            (header::CONTENT_TYPE, "application/json"),
            (
                header::HeaderName::from_static("idempotent-replayed"),
                "true",
            ),
        ],
        Body::from(stored.body),
    )
        .into_response())
}

/// The event as stored locally, learning it from the catalogue on first sight.
async fn event_stock(state: &AppState, event_id: Uuid) -> Result<EventStock, TicketError> {
    if let Some(stock) = state.store.event_stock(event_id).await? {
        return Ok(stock);
    }
    let info = state
        .events
        .fetch(event_id)
        .await?
        .ok_or(TicketError::EventNotFound)?;
    state.store.apply_event(&info).await?;
    state
        .store
        .event_stock(event_id)
        .await?
        .ok_or(TicketError::EventNotFound)
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
    params(("Idempotency-Key" = Option<String>, Header, description = "1 to 255 characters; the same key with the same request replays the first answer, with another request it is refused (422).")),
    request_body = BookBody,
    responses(
        (status = 201, description = "Booked: the order is pending until paid or expired.", body = BookingResponse,
            headers(("Idempotent-Replayed" = String, description = "`true` when this is the stored answer to an earlier request with the same `Idempotency-Key`."))),
        (status = 400, description = "`malformed_json`: the body is not JSON; `invalid_idempotency_key`.", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no valid session.", body = ErrorBody),
        (status = 404, description = "`event_not_found`: no such event on sale (unknown, draft or malformed id).", body = ErrorBody),
        (status = 409, description = "`sold_out` (`fields.ticketType` and `fields.available` say which and how many are left) or `event_not_bookable` (cancelled, started or no longer on sale).", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body is not `application/json`.", body = ErrorBody),
        (status = 422, description = "`validation_failed`: `fields` names each problem (`eventId`, `tickets`, `tickets[0].ticketType`, `tickets[0].quantity`, `customerInfo.email`, ...); `invalid_body`: a field has the wrong JSON type; `idempotency_key_reused`: the key was used for another request.", body = ErrorBody),
        (status = 503, description = "`auth_unavailable` or `catalog_unavailable` (the event service does not answer).", body = ErrorBody),
        (status = 500, description = "`internal_error`.", body = ErrorBody),
    )
)]
async fn book(
    State(state): State<AppState>,
    user: AuthUser,
    IncomingTrace(incoming): IncomingTrace,
    headers: HeaderMap,
    JsonBody(body): JsonBody<BookBody>,
) -> Result<Response, TicketError> {
    let request = parse_booking(body, &user, state.config.max_tickets_per_order)?;
    let key = idempotency_key(&headers)?;
    let fingerprint = request.fingerprint();
    if let Some(key) = &key
        && let Some(stored) = state.store.idempotent_response(user.id, key).await?
    {
        return replay(stored, &fingerprint);
    }

    let stock = event_stock(&state, request.event_id).await?;
    let event = &stock.event;
    if event.status == EventStatus::Cancelled {
        return Err(TicketError::EventNotBookable(
            "This event has been cancelled.",
        ));
    }
    if !event.status.is_on_sale() {
        return Err(TicketError::EventNotFound);
    }
    if event.date_time <= Utc::now() {
        return Err(TicketError::EventNotBookable(
            "This event has already started.",
        ));
    }

    let mut fields = FieldErrors::new();
    let mut lines = Vec::with_capacity(request.lines.len());
    for (i, (name, quantity)) in request.lines.iter().enumerate() {
        match stock
            .stock
            .iter()
            .find(|s| s.ticket_type.eq_ignore_ascii_case(name))
        {
            Some(s) => match OrderLine::new(s.ticket_type.clone(), s.price, *quantity) {
                Some(line) => lines.push(line),
                None => push(&mut fields, "tickets", "This order's total is too large."),
            },
            None => push(
                &mut fields,
                format!("tickets[{i}].ticketType"),
                format!("This event has no ticket type \"{name}\"."),
            ),
        }
    }
    if !fields.is_empty() {
        return Err(ApiError::validation(fields).into());
    }
    let Some(total_amount) = crate::order::total(&lines, event.currency) else {
        push(&mut fields, "tickets", "This order's total is too large.");
        return Err(ApiError::validation(fields).into());
    };

    let now = platform::time::now();
    let hold =
        chrono::Duration::from_std(state.config.hold).unwrap_or(chrono::Duration::minutes(15));
    let order_id = Uuid::now_v7();
    let traceparent = platform::trace::continue_or_root(incoming.as_deref(), order_id);
    let mut order = Order {
        id: order_id,
        user_id: user.id,
        event_id: event.id,
        event_title: event.title.clone(),
        event_date_time: event.date_time,
        booking_reference: crate::codes::booking_reference(),
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
    };
    for _ in 0..5 {
        let body = view::booking(&order).to_string();
        let booking = Booking {
            order: order.clone(),
            idempotency: key.as_ref().map(|key| IdempotencyRecord {
                user_id: user.id,
                key: key.clone(),
                response: StoredResponse {
                    request_hash: fingerprint.clone(),
                    status: 201,
                    body: body.clone(),
                },
            }),
            traceparent: Some(traceparent.clone()),
        };
        match state.store.book(&booking).await? {
            BookResult::Booked => {
                state.outbox_wake.notify_one();
                return Ok((
                    StatusCode::CREATED,
                    [(header::CONTENT_TYPE, "application/json")],
                    Body::from(body),
                )
                    .into_response());
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
            BookResult::KeyUsed(stored) => return replay(stored, &fingerprint),
            BookResult::EventClosed => {
                return Err(TicketError::EventNotBookable(
                    "This event is no longer on sale.",
                ));
            }
            BookResult::ReferenceTaken => {
                order.booking_reference = crate::codes::booking_reference()
            }
        }
    }
    Err(ApiError::internal(&std::io::Error::other(
        "no free booking reference after 5 tries",
    ))
    .into())
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
        (status = 401, description = "`unauthorized`: no valid session.", body = ErrorBody),
        (status = 503, description = "`auth_unavailable`: the session cannot be checked right now.", body = ErrorBody),
        (status = 500, description = "`internal_error`.", body = ErrorBody),
    )
)]
async fn my_orders(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<Value>, TicketError> {
    let orders = state.store.orders_of_user(user.id).await?;
    let views: Vec<Value> = orders.iter().map(view::order).collect();
    Ok(Json(json!({ "orders": views, "total": views.len() })))
}

/// The order if the caller may see it; 404 otherwise, so order ids don't leak.
async fn visible_order(
    state: &AppState,
    user: &AuthUser,
    id: &str,
) -> Result<crate::order::OrderDetails, TicketError> {
    let id = Uuid::parse_str(id).map_err(|_| TicketError::OrderNotFound)?;
    match state.store.order(id).await? {
        Some(d) if d.order.user_id == user.id || user.is_admin() => Ok(d),
        _ => Err(TicketError::OrderNotFound),
    }
}

/// One order
///
/// With its payment attempts and, once confirmed, its e-tickets. To its owner or an admin; 404
/// for everyone else.
#[utoipa::path(
    get,
    path = "/api/tickets/orders/{id}",
    tag = "orders",
    params(("id" = Uuid, Path, description = "The order's id (a malformed id is a 404 like an unknown one).")),
    security(("cookieAuth" = [])),
    responses(
        (status = 200, description = "The order.", body = OrderResponse),
        (status = 401, description = "`unauthorized`: no valid session.", body = ErrorBody),
        (status = 404, description = "`order_not_found`: no such order, or not the caller's.", body = ErrorBody),
        (status = 503, description = "`auth_unavailable`: the session cannot be checked right now.", body = ErrorBody),
        (status = 500, description = "`internal_error`.", body = ErrorBody),
    )
)]
async fn show_order(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, TicketError> {
    let details = visible_order(&state, &user, &id).await?;
    Ok(Json(json!({ "order": view::order_details(&details) })))
}

/// Cancel a pending order
///
/// Releases its seats (reason `user_cancelled`, published on `orders.cancelled`).
#[utoipa::path(
    post,
    path = "/api/tickets/orders/{id}/cancel",
    tag = "orders",
    params(("id" = Uuid, Path, description = "The order's id (a malformed id is a 404 like an unknown one).")),
    security(("cookieAuth" = [])),
    responses(
        (status = 200, description = "The cancelled order.", body = OrderResponse),
        (status = 401, description = "`unauthorized`: no valid session.", body = ErrorBody),
        (status = 404, description = "`order_not_found`: no such order, or not the caller's.", body = ErrorBody),
        (status = 409, description = "`order_not_pending`: the order is already confirmed or cancelled.", body = ErrorBody),
        (status = 503, description = "`auth_unavailable`: the session cannot be checked right now.", body = ErrorBody),
        (status = 500, description = "`internal_error`.", body = ErrorBody),
    )
)]
async fn cancel_order(
    State(state): State<AppState>,
    user: AuthUser,
    TraceParent(traceparent): TraceParent,
    Path(id): Path<String>,
) -> Result<Json<Value>, TicketError> {
    let details = visible_order(&state, &user, &id).await?;
    match state
        .store
        .cancel(
            details.order.id,
            CancelReason::UserCancelled,
            Some(&traceparent),
        )
        .await?
    {
        Transition::Applied(_) => {
            state.outbox_wake.notify_one();
            let details = state
                .store
                .order(details.order.id)
                .await?
                .ok_or(TicketError::OrderNotFound)?;
            Ok(Json(json!({ "order": view::order_details(&details) })))
        }
        Transition::NotPending(order) => Err(TicketError::OrderNotPending(order.status.as_str())),
        Transition::NotFound | Transition::Recorded(_) | Transition::Duplicate => {
            Err(TicketError::OrderNotFound)
        }
    }
}

/// Seats left per ticket type
///
/// Public. An event not yet known to the ticket service is fetched from the catalogue first.
#[utoipa::path(
    get,
    path = "/api/tickets/events/{event_id}/availability",
    tag = "availability",
    params(("event_id" = Uuid, Path, description = "The event's id (a malformed id is a 404 like an unknown one).")),
    responses(
        (status = 200, description = "Capacity, sold, held and available seats per ticket type.", body = Availability),
        (status = 404, description = "`event_not_found`: unknown event, or a draft.", body = ErrorBody),
        (status = 503, description = "`catalog_unavailable`: the event service does not answer.", body = ErrorBody),
        (status = 500, description = "`internal_error`.", body = ErrorBody),
    )
)]
async fn availability(
    State(state): State<AppState>,
    Path(event_id): Path<String>,
) -> Result<Json<Value>, TicketError> {
    let event_id = Uuid::parse_str(&event_id).map_err(|_| TicketError::EventNotFound)?;
    let stock = event_stock(&state, event_id).await?;
    if stock.event.status == EventStatus::Draft {
        return Err(TicketError::EventNotFound);
    }
    Ok(Json(view::availability(&stock)))
}

/// Seats left, live (server-sent events)
///
/// A `text/event-stream`: the first event's `data` is the availability JSON (the `Availability`
/// schema) as now, then one more after every booking, expiry, payment or catalogue change of the
/// event (bursts coalesced), with a keep-alive comment every 15 seconds.
#[utoipa::path(
    get,
    path = "/api/tickets/events/{event_id}/availability/stream",
    tag = "availability",
    params(("event_id" = Uuid, Path, description = "The event's id (a malformed id is a 404 like an unknown one).")),
    responses(
        (status = 200, description = "An endless stream of `data: <Availability JSON>` events.", content_type = "text/event-stream", body = String),
        (status = 404, description = "`event_not_found`: unknown event, or a draft.", body = ErrorBody),
        (status = 503, description = "`catalog_unavailable`: the event service does not answer.", body = ErrorBody),
        (status = 500, description = "`internal_error`.", body = ErrorBody),
    )
)]
async fn availability_stream(
    State(state): State<AppState>,
    Path(event_id): Path<String>,
) -> Result<Response, TicketError> {
    let event_id = Uuid::parse_str(&event_id).map_err(|_| TicketError::EventNotFound)?;
    let stock = event_stock(&state, event_id).await?;
    if stock.event.status == EventStatus::Draft {
        return Err(TicketError::EventNotFound);
    }
    let first = view::availability(&stock);
    Ok(crate::live::stream(state, event_id, first).into_response())
}
