//! The HTTP routes of the payment service.

use api_types::payments::{OrderPayments, ProcessRequest, ProcessResponse, StatusResponse};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use platform::openapi::{BodyRejected, ErrorBody, InternalError, NoSession, SessionErrors};
use platform::trace::IncomingTrace;
use platform::{ApiError, AuthUser, ValidatedJson};
use uuid::Uuid;

use crate::error::PaymentError;
use crate::idempotency::IdempotencyKey;
use crate::input::ProcessBody;
use crate::process::{self, Reply};
use crate::state::AppState;
use crate::view;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/payment/process", post(process))
        .route("/api/payment/status/{id}", get(status))
        .route("/api/payment/orders/{order_id}", get(for_order))
}

/// A malformed id names nothing: 404 like an unknown one.
fn id(raw: &str, not_found: PaymentError) -> Result<Uuid, PaymentError> {
    Uuid::parse_str(raw).map_err(|_| not_found)
}

platform::id_path! {
    /// The path of a route about one payment, for the OpenAPI document.
    PaymentPath("id", "payment");

    /// The path of a route about one order's payments, for the OpenAPI document.
    OrderPath("order_id", "order");
}

/// Pay for a pending order
///
/// The simulated gateway decides; an approval is published on `payments.completed` (the ticket
/// service then confirms the order and issues the tickets), a decline on `payments.failed`. Only
/// the last 4 digits and the brand of a card are kept. With an `Idempotency-Key`, a retry of the
/// same request gets the first answer again and is never charged twice.
#[utoipa::path(
    post,
    path = "/api/payment/process",
    tag = "payments",
    security(("cookieAuth" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "1 to 255 visible ASCII characters; the same key with the same request replays the first answer, with another request it is refused (422).")),
    request_body = ProcessRequest,
    responses(
        (status = 201, description = "The gateway decided: `payment.status` is `completed`, `failed` (a decline is a business result, not an HTTP error; `message` is the gateway's) or `refunded`.", body = ProcessResponse,
            headers(("Idempotent-Replayed" = String, description = "`true` when this is the stored answer to an earlier request with the same `Idempotency-Key`."))),
        (status = 400, description = "`malformed_json`: the body is not JSON; `invalid_idempotency_key`.", body = ErrorBody),
        NoSession,
        (status = 404, description = "`order_not_found`: unknown order, or not the caller's.", body = ErrorBody),
        (status = 409, description = "`order_expired` (the hold ran out), `order_cancelled`, `order_already_paid`, `order_not_pending`, `payment_in_progress` (another payment of this order is at the gateway) or `idempotency_key_in_use` (the first request with this key still runs).", body = ErrorBody),
        BodyRejected,
        (status = 422, description = "`validation_failed`: `fields` names each problem (`orderId`, `paymentMethod`, `paymentDetails`, `paymentDetails.cardNumber`, `paymentDetails.expiryMonth`, `paymentDetails.expiryYear`, `paymentDetails.cvc`, `paymentDetails.cardholderName`, `paymentDetails.email`, `body`); card data is never echoed. `idempotency_key_reused`: the key was used with another request.", body = ErrorBody),
        (status = 503, description = "`auth_unavailable`, or `order_lookup_unavailable` (the order is not known yet and the ticket service does not answer).", body = ErrorBody),
        InternalError,
    )
)]
async fn process(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    IncomingTrace(incoming): IncomingTrace,
    headers: HeaderMap,
    ValidatedJson(body): ValidatedJson<ProcessBody>,
) -> Result<Reply, PaymentError> {
    let request = body
        .parse(platform::time::now())
        .map_err(|e| ApiError::validation(platform::extract::field_errors(&e)))?;
    // The raw body holds the card number and CVC; nothing past this point sees them.
    drop(body);
    // Without a caller's trace, the payment joins its order's trace (rooted at the order id).
    let traceparent = platform::trace::continue_or_root(incoming.as_deref(), request.order_id);
    let key = IdempotencyKey::from_headers(&headers).map_err(PaymentError::InvalidKey)?;
    let cookie = headers.get(header::COOKIE).and_then(|v| v.to_str().ok());
    process::submit(&state, &user, &request, &traceparent, cookie, key).await
}

/// One payment, to its owner or an admin, with its order's current status.
#[utoipa::path(
    get,
    path = "/api/payment/status/{id}",
    tag = "payments",
    params(PaymentPath),
    security(("cookieAuth" = [])),
    responses(
        (status = 200, description = "The payment and its order's status.", body = StatusResponse),
        SessionErrors,
        (status = 404, description = "`payment_not_found`: unknown payment, or not the caller's.", body = ErrorBody),
    )
)]
async fn status(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(raw): Path<String>,
) -> Result<Json<StatusResponse>, PaymentError> {
    let id = id(&raw, PaymentError::PaymentNotFound)?;
    let payment = match state.store.payment(id).await? {
        Some(p) if p.user_id == user.id || user.is_admin() => p,
        _ => return Err(PaymentError::PaymentNotFound),
    };
    let order = state.store.order(payment.order_id).await?;
    Ok(Json(view::status(&payment, order.map(|o| o.status))))
}

/// Every payment attempt of an order, oldest first (to its owner or an admin).
#[utoipa::path(
    get,
    path = "/api/payment/orders/{order_id}",
    tag = "payments",
    params(OrderPath),
    security(("cookieAuth" = [])),
    responses(
        (status = 200, description = "The order's status and its payments.", body = OrderPayments),
        SessionErrors,
        (status = 404, description = "`order_not_found`: the payment service knows no such order of the caller's.", body = ErrorBody),
    )
)]
async fn for_order(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(raw): Path<String>,
) -> Result<Json<OrderPayments>, PaymentError> {
    let order_id = id(&raw, PaymentError::OrderNotFound)?;
    let order = match state.store.order(order_id).await? {
        Some(o) if o.user_id == user.id || user.is_admin() => o,
        _ => return Err(PaymentError::OrderNotFound),
    };
    let payments = state.store.payments_for_order(order_id).await?;
    Ok(Json(view::for_order(order.id, order.status, &payments)))
}
