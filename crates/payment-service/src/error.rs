//! Everything the payment service can fail with, mapped once to the shared JSON error shape.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use platform::idempotency::InvalidIdempotencyKey;
use platform::{ApiError, StoreError};

use crate::domain::NotPayable;

#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    /// Unknown, or not the caller's: the two are not told apart.
    #[error("order not found")]
    OrderNotFound,
    #[error("payment not found")]
    PaymentNotFound,
    #[error("order cannot be paid: {0:?}")]
    NotPayable(NotPayable),
    #[error("the order already has a completed payment")]
    AlreadyPaid,
    #[error("another payment for this order is being processed")]
    PaymentInProgress,
    #[error("the idempotency key was used with a different request")]
    KeyReused,
    #[error("the first request with this idempotency key is still running")]
    KeyInUse,
    #[error("invalid idempotency key")]
    InvalidKey(#[from] InvalidIdempotencyKey),
    /// The order is not in the projection yet and the ticket service cannot be asked.
    #[error("the order cannot be looked up")]
    OrderLookupUnavailable,
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("store failure")]
    Store(#[from] StoreError),
    #[error("internal failure: {0}")]
    Internal(String),
}

impl PaymentError {
    /// Whether the answer depends only on durable facts, so an `Idempotency-Key` keeps replaying
    /// it. Failures worth retrying (a busy order, an unreachable dependency, our own errors)
    /// release the key instead, as Stripe does for requests that did not run to completion.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            PaymentError::OrderNotFound | PaymentError::NotPayable(_) | PaymentError::AlreadyPaid
        )
    }
}

impl From<PaymentError> for ApiError {
    fn from(e: PaymentError) -> ApiError {
        match e {
            PaymentError::OrderNotFound => {
                ApiError::not_found("No such order.").with_code("order_not_found")
            }
            PaymentError::PaymentNotFound => {
                ApiError::not_found("No such payment.").with_code("payment_not_found")
            }
            PaymentError::NotPayable(NotPayable::Confirmed) | PaymentError::AlreadyPaid => {
                ApiError::conflict("order_already_paid", "This order is already paid.")
            }
            PaymentError::NotPayable(NotPayable::Cancelled) => ApiError::conflict(
                "order_cancelled",
                "This order was cancelled and can no longer be paid.",
            ),
            PaymentError::NotPayable(NotPayable::Expired) => ApiError::conflict(
                "order_expired",
                "The hold on these tickets has expired. Please book again.",
            ),
            PaymentError::NotPayable(NotPayable::AmountUnknown) => ApiError::conflict(
                "order_not_pending",
                "This order is not waiting for a payment.",
            ),
            PaymentError::PaymentInProgress => ApiError::conflict(
                "payment_in_progress",
                "A payment for this order is already being processed.",
            ),
            PaymentError::KeyReused => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "This Idempotency-Key was already used with a different request.",
            ),
            PaymentError::KeyInUse => ApiError::conflict(
                "idempotency_key_in_use",
                "A request with this Idempotency-Key is still being processed; retry shortly.",
            ),
            PaymentError::InvalidKey(e) => e.into(),
            PaymentError::OrderLookupUnavailable => ApiError::unavailable(
                "order_lookup_unavailable",
                "This order cannot be checked right now. Please try again in a moment.",
            ),
            PaymentError::Api(e) => e,
            PaymentError::Store(ref e) => ApiError::internal(e),
            PaymentError::Internal(message) => ApiError::internal(&InternalError(message)),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct InternalError(String);

impl IntoResponse for PaymentError {
    fn into_response(self) -> Response {
        ApiError::from(self).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_refusal_has_its_own_status_and_code() {
        for (e, status, code) in [
            (PaymentError::OrderNotFound, 404, "order_not_found"),
            (
                PaymentError::NotPayable(NotPayable::Expired),
                409,
                "order_expired",
            ),
            (PaymentError::AlreadyPaid, 409, "order_already_paid"),
            (PaymentError::KeyReused, 422, "idempotency_key_reused"),
            (
                PaymentError::OrderLookupUnavailable,
                503,
                "order_lookup_unavailable",
            ),
        ] {
            let api = ApiError::from(e);
            assert_eq!(api.status.as_u16(), status);
            assert_eq!(api.code, code);
        }
    }
}
