//! Everything the auth service can fail with, mapped once to the shared JSON error shape.

use axum::http::StatusCode;
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
