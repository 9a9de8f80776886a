//! Everything the notification service can fail with, mapped once to the shared JSON error shape.

use axum::response::{IntoResponse, Response};
use platform::{ApiError, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum NotificationError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("store failure")]
    Store(#[from] StoreError),
}

impl From<NotificationError> for ApiError {
    fn from(e: NotificationError) -> ApiError {
        match e {
            NotificationError::Api(e) => e,
            NotificationError::Store(ref e) => ApiError::internal(e),
        }
    }
}

impl IntoResponse for NotificationError {
    fn into_response(self) -> Response {
        ApiError::from(self).into_response()
    }
}
