//! The door of an event: one scan (`POST /api/tickets/checkin`) and what an offline scanner
//! keeps (`GET /api/tickets/events/:id/checkin/bundle`). For the event's organizer, admins and
//! the check-in staff the organizer named; for anyone else the event does not exist.

use api_types::checkin::{CheckinBundle, CheckinRequest, CheckinResponse};
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use platform::AuthUser;
use platform::openapi::{ErrorBody, MalformedJson};
use platform::trace::TraceParent;

use crate::error::{SessionCatalogErrors, TicketError, UnscannableEvent};
use crate::input::{self, EventPath};
use crate::state::AppState;
use crate::{checkin, door};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/tickets/checkin", post(check_in))
        .route(
            "/api/tickets/events/{event_id}/checkin/bundle",
            get(checkin_bundle),
        )
}

/// Check a ticket in (or out)
///
/// One scan at the door: the signed code a camera read (`T1.…`) or the plain code a person
/// typed. Always 200 with `result`: `ok` (let them pass), `already_checked_in` (with the first
/// check-in's time and gate), `cancelled`, `refunded`, `not_paid`, `wrong_event` (a genuine
/// ticket of another event) or `invalid` (unknown, forged, altered or unreadable). Exactly one
/// scan per entry gets `ok`, however many scanners race; an exit scan lets the holder enter
/// again. The same `nonce` replays the first answer, so an offline queue can be uploaded twice.
/// A scan uploaded later with an earlier `scannedAt` than the recorded check-in moves the record
/// to its time and gate (the earliest scan is the check-in) and is answered
/// `already_checked_in`. Each `ok` publishes `tickets.checked_in`.
#[utoipa::path(
    post,
    path = "/api/tickets/checkin",
    tag = "check-in",
    security(("cookieAuth" = [])),
    request_body = CheckinRequest,
    responses(
        (status = 200, description = "The door's answer and the event's live counter.", body = CheckinResponse),
        MalformedJson,
        UnscannableEvent,
        (status = 415, description = "`unsupported_media_type`: the body is not `application/json`.", body = ErrorBody),
        (status = 422, description = "`validation_failed`: `fields` names `code` (empty or over 1024 characters), `nonce` (1 to 128 characters) or `gate` (over 64 characters); `invalid_body`: a field has the wrong JSON type.", body = ErrorBody),
        SessionCatalogErrors,
    )
)]
pub(crate) async fn check_in(
    State(state): State<AppState>,
    user: AuthUser,
    TraceParent(traceparent): TraceParent,
    platform::extract::Json(body): platform::extract::Json<CheckinRequest>,
) -> Result<Json<CheckinResponse>, TicketError> {
    let scan = input::scan(body, platform::time::now())?;
    Ok(Json(
        door::scan(&state, &user, scan, Some(traceparent)).await?,
    ))
}

/// An event's check-in bundle
///
/// What a scanner keeps to work offline: the event's public keys (every version still valid;
/// signed codes name theirs) and every sold ticket's plain code by state (`valid`, `checkedIn`,
/// `cancelled`, `refunded`). No names: a lost scanner reveals no attendee. About 1.3 MB of JSON
/// for 50,000 tickets.
#[utoipa::path(
    get,
    path = "/api/tickets/events/{event_id}/checkin/bundle",
    tag = "check-in",
    params(EventPath),
    security(("cookieAuth" = [])),
    responses(
        (status = 200, description = "The bundle.", body = CheckinBundle),
        UnscannableEvent,
        SessionCatalogErrors,
    )
)]
pub(crate) async fn checkin_bundle(
    State(state): State<AppState>,
    user: AuthUser,
    Path(event_id): Path<String>,
) -> Result<Json<CheckinBundle>, TicketError> {
    let id = door::door_event_at(&state, &user, &event_id)
        .await?
        .event
        .id;
    let keys = door::keys(&state, id).await?;
    let tickets = state.store.tickets_of_event(id).await?;
    Ok(Json(checkin::bundle(
        id,
        &keys,
        &tickets,
        platform::time::now(),
    )))
}
