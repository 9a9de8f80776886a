//! Everything the event service can fail with, mapped once to the shared JSON error shape.

use axum::response::{IntoResponse, Response};
use platform::openapi::SessionErrors;
use platform::{ApiError, FieldErrors, StoreError};

use crate::domain::{TicketShrink, TransitionError};

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// Unknown, malformed or not visible to the caller: drafts never leak.
    #[error("event not found")]
    NotFound,
    #[error("not the organizer of this event")]
    NotOwner,
    #[error("invalid event")]
    Invalid(FieldErrors),
    #[error("invalid query parameters")]
    InvalidQuery(FieldErrors),
    #[error("status change refused: {0}")]
    Transition(#[from] TransitionError),
    #[error("published ticket types would shrink")]
    TicketTypesShrunk(Vec<TicketShrink>),
    #[error("the event changed concurrently")]
    EditConflict,
    #[error("the event has as many check-in staff as it may")]
    StaffFull,
    #[error("not check-in staff of this event")]
    StaffNotFound,
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("store failure")]
    Store(#[from] StoreError),
}

impl EventError {
    /// A failure of our own (e.g. a fact that does not serialize): logged with its cause chain
    /// now, answered as 500 `internal_error`.
    pub fn internal(e: impl std::error::Error + 'static) -> Self {
        EventError::Api(ApiError::internal(&e))
    }
}

impl From<EventError> for ApiError {
    fn from(e: EventError) -> ApiError {
        match e {
            EventError::NotFound => {
                ApiError::not_found("No such event.").with_code("event_not_found")
            }
            EventError::NotOwner => {
                ApiError::forbidden("Only the organizer of this event or an admin can do this.")
            }
            EventError::Invalid(fields) => ApiError::validation(fields),
            EventError::InvalidQuery(fields) => ApiError::invalid_query(fields),
            EventError::Transition(t) => ApiError::conflict(t.code(), t.to_string()),
            EventError::TicketTypesShrunk(shrinks) => {
                let mut e = ApiError::conflict(
                    "ticket_types_locked",
                    "After publication ticket types can be added or increased, but not removed or reduced.",
                );
                e.fields.insert(
                    "ticketTypes".into(),
                    shrinks.iter().map(ToString::to_string).collect(),
                );
                e
            }
            EventError::EditConflict => ApiError::conflict(
                "edit_conflict",
                "The event was changed by someone else meanwhile. Reload it and try again.",
            ),
            EventError::StaffFull => ApiError::conflict(
                "staff_full",
                format!(
                    "An event can have at most {} check-in staff. Remove someone first.",
                    crate::staff::MAX_STAFF
                ),
            ),
            EventError::StaffNotFound => {
                ApiError::not_found("This person is not check-in staff of the event.")
                    .with_code("staff_not_found")
            }
            EventError::Api(e) => e,
            EventError::Store(ref e) => ApiError::internal(e),
        }
    }
}

impl IntoResponse for EventError {
    fn into_response(self) -> Response {
        ApiError::from(self).into_response()
    }
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::*;

    #[test]
    fn each_refused_transition_has_its_own_conflict_code() {
        let api = ApiError::from(EventError::Transition(TransitionError::AlreadyCancelled));
        assert_eq!(api.status, StatusCode::CONFLICT);
        assert_eq!(api.code, "already_cancelled");
        let api = ApiError::from(EventError::NotFound);
        assert_eq!(api.status, StatusCode::NOT_FOUND);
    }
}

platform::error_answers! {
    /// How a route answers a caller who may not manage the event, for the OpenAPI document;
    /// telling needs the caller's session, so it answers what the session check answers too.
    pub ManagedEventErrors: SessionErrors {
        403 => "`forbidden`: only the event's organizer or an admin may do this.",
        404 => "`event_not_found`: no such event.",
    }

    /// How every staff route answers a caller who may not manage the event (and what the
    /// session check answers), for the OpenAPI document.
    pub StaffAccess: SessionErrors {
        403 => "`forbidden`: only the event's organizer or an admin may do this.",
        404 => "`event_not_found`: no such event; for a removal also `staff_not_found`: \
                that email is not on the list.",
    }

    /// How a change of the staff list is refused, for the OpenAPI document.
    pub StaffChangeRefused {
        409 => "`staff_full` (50 people named already) or `edit_conflict` (the list changed \
                meanwhile; try again).",
        422 => "`validation_failed`: `fields.email` is not an email address; `invalid_body`: a \
                field has the wrong JSON type.",
    }
}
