//! Everything the auth service can fail with, mapped once to the shared JSON error shape.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use platform::{ApiError, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("an account with this email already exists")]
    EmailTaken,
    #[error("invalid email or password")]
    InvalidCredentials,
    #[error("account disabled")]
    AccountDisabled,
    #[error("not signed in")]
    Unauthenticated,
    #[error("too many attempts")]
    TooManyAttempts { retry_after: std::time::Duration },
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("store failure")]
    Store(#[from] StoreError),
    #[error("internal failure")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let api = match self {
            AuthError::TooManyAttempts { retry_after } => {
                // Whole seconds, rounded up: a client that waits that long is let in.
                let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
                let mut res = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too_many_attempts",
                    "Too many attempts. Please wait a while and try again.",
                )
                .into_response();
                res.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
                return res;
            }
            AuthError::EmailTaken => {
                let mut e =
                    ApiError::conflict("email_taken", "An account with this email already exists.");
                e.fields.insert(
                    "email".into(),
                    vec!["An account with this email already exists.".into()],
                );
                e
            }
            AuthError::InvalidCredentials => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "Invalid email or password.",
            ),
            AuthError::AccountDisabled => {
                ApiError::forbidden("This account has been disabled.").with_code("account_disabled")
            }
            AuthError::Unauthenticated => ApiError::unauthorized(),
            AuthError::Api(e) => e,
            AuthError::Store(ref e) => ApiError::internal(e),
            AuthError::Internal(ref e) => ApiError::internal(e.as_ref()),
        };
        api.into_response()
    }
}

platform::error_answers! {
    /// How a route that reads the caller's session answers when there is none, for the OpenAPI
    /// document. The auth service checks sessions itself, so unlike the other services' routes
    /// (`platform::openapi::SessionErrors`) these never answer `auth_unavailable`.
    pub SessionRequired: platform::openapi::InternalError {
        401 => "`unauthorized`: no session, or it expired or was deleted.",
    }
}
