//! The HTTP routes of the payment service.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use platform::trace::IncomingTrace;
use platform::{ApiError, AuthUser, ValidatedJson};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::app::AppState;
use crate::error::PaymentError;
use crate::idempotency::IdempotencyKey;
use crate::input::ProcessBody;
use crate::process::{self, Reply};
use crate::view::{PaymentView, status_body};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/payment/process", post(process))
        .route("/api/payment/status/{id}", get(status))
        .route("/api/payment/orders/{order_id}", get(for_order))
}

/// A malformed id names nothing: 404 like an unknown one.
fn id(raw: &str, not_found: PaymentError) -> Result<Uuid, PaymentError> {
    Uuid::parse_str(raw).map_err(|_| not_found)
}

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
async fn status(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(raw): Path<String>,
) -> Result<Json<Value>, PaymentError> {
    let id = id(&raw, PaymentError::PaymentNotFound)?;
    let payment = match state.store.payment(id).await? {
        Some(p) if p.user_id == user.id || user.is_admin() => p,
        _ => return Err(PaymentError::PaymentNotFound),
    };
    let order = state.store.order(payment.order_id).await?;
    Ok(Json(status_body(&payment, order.map(|o| o.status))))
}

/// Every payment attempt of an order, oldest first (to its owner or an admin).
async fn for_order(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(raw): Path<String>,
) -> Result<Json<Value>, PaymentError> {
    let order_id = id(&raw, PaymentError::OrderNotFound)?;
    let order = match state.store.order(order_id).await? {
        Some(o) if o.user_id == user.id || user.is_admin() => o,
        _ => return Err(PaymentError::OrderNotFound),
    };
    let payments = state.store.payments_for_order(order_id).await?;
    let views: Vec<PaymentView> = payments.iter().map(PaymentView::from).collect();
    Ok(Json(json!({
        "orderId": order.id,
        "orderStatus": order.status.as_str(),
        "payments": views,
    })))
}
