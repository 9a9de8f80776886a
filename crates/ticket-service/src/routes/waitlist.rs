//! The waitlist of sold-out ticket types: joining, seeing and leaving it
//! (`POST/GET/DELETE /api/tickets/events/:id/waitlist`), answering an offer
//! (`POST /api/tickets/waitlist/:entryId/accept` and `.../decline`), for the signed-in buyer;
//! and the length of each type's line for the event's organizer and admins
//! (`GET /api/tickets/events/:id/waitlist/lengths`).

use api_types::orders::BookingResponse;
use api_types::waitlist::{WaitlistEntryView, WaitlistLengths, WaitlistResponse};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use platform::AuthUser;
use platform::extract::Json as JsonBody;
use platform::openapi::{ErrorBody, MalformedJson};
use platform::trace::IncomingTrace;

use super::organizer::managed_event;
use crate::error::{SessionCatalogErrors, SessionErrors, TicketError, UnmanagedEvent};
use crate::input::{self, EventPath};
use crate::state::AppState;
use crate::view;
use crate::waitlist_steps::{self, JoinBody};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/tickets/events/{event_id}/waitlist",
            get(my_entries).post(join).delete(leave),
        )
        .route(
            "/api/tickets/events/{event_id}/waitlist/lengths",
            get(lengths),
        )
        .route("/api/tickets/waitlist/{entry_id}/accept", post(accept))
        .route("/api/tickets/waitlist/{entry_id}/decline", post(decline))
}

platform::id_path! {
    /// The path of a route about one waitlist entry, for the OpenAPI document.
    pub EntryPath("entry_id", "entry");
}

/// Join a waitlist
///
/// For a ticket type that has fewer seats on sale than wanted. One open entry per buyer and type:
/// joining again answers with the entry they have (200). When seats of the type come free
/// (expired holds, cancellations, refunds, offers declined or run out), the first entries in join
/// order whose quantity fits get an offer: the seats are held for them for `WAITLIST_OFFER_SECS`
/// (30 minutes by default), published as `tickets.waitlist_offered` (the buyer is mailed).
/// The organizer can turn an event's waitlist off (`waitlistEnabled` on the event): joining is
/// refused and freed seats go back on sale; entries already in line keep their place.
#[utoipa::path(
    post,
    path = "/api/tickets/events/{event_id}/waitlist",
    tag = "waitlist",
    params(EventPath),
    security(("cookieAuth" = [])),
    request_body = JoinBody,
    responses(
        (status = 201, description = "Joined: the new entry with its position.", body = WaitlistEntryView),
        (status = 200, description = "The buyer's open entry for this type, unchanged.", body = WaitlistEntryView),
        MalformedJson,
        (status = 404, description = "`event_not_found`: no such event on sale (unknown, draft or malformed id).", body = ErrorBody),
        (status = 409, description = "`not_sold_out`: enough seats are on sale (`fields.available`), book them; `waitlist_off`: the organizer turned the event's waitlist off; `event_not_bookable`: cancelled, started or no longer on sale.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body is not `application/json`.", body = ErrorBody),
        (status = 422, description = "`validation_failed`: `fields.ticketType` (no such type) or `fields.quantity` (1 to 10); `invalid_body`: a field has the wrong JSON type.", body = ErrorBody),
        SessionCatalogErrors,
    )
)]
pub(crate) async fn join(
    State(state): State<AppState>,
    user: AuthUser,
    Path(event_id): Path<String>,
    JsonBody(body): JsonBody<JoinBody>,
) -> Result<(StatusCode, Json<WaitlistEntryView>), TicketError> {
    let event_id = input::event_id(&event_id)?;
    let (entry, new) = waitlist_steps::join(&state, &user, event_id, body).await?;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(entry)))
}

/// The caller's waitlist entries
///
/// On this event: open ones (waiting, with their position; offered, with `offerExpiresAt`)
/// first, then ended ones (accepted with the `orderId` it became, declined, lapsed, left, or
/// `event_cancelled` when the event was cancelled while the entry was open).
#[utoipa::path(
    get,
    path = "/api/tickets/events/{event_id}/waitlist",
    tag = "waitlist",
    params(EventPath),
    security(("cookieAuth" = [])),
    responses(
        (status = 200, description = "The caller's entries (none is an empty list).", body = WaitlistResponse),
        SessionErrors,
    )
)]
pub(crate) async fn my_entries(
    State(state): State<AppState>,
    user: AuthUser,
    Path(event_id): Path<String>,
) -> Result<Json<WaitlistResponse>, TicketError> {
    let event_id = input::event_id(&event_id)?;
    let entries = state.store.waitlist_of_user(event_id, user.id).await?;
    Ok(Json(WaitlistResponse {
        entries: entries
            .iter()
            .map(|(e, position)| waitlist_steps::view(e, *position))
            .collect(),
    }))
}

/// Leave the waitlists of an event
///
/// Ends every open entry of the caller on this event; seats held for an offer go to the next
/// entries. Leaving when not in line changes nothing.
#[utoipa::path(
    delete,
    path = "/api/tickets/events/{event_id}/waitlist",
    tag = "waitlist",
    params(EventPath),
    security(("cookieAuth" = [])),
    responses(
        (status = 204, description = "The caller is on none of the event's waitlists."),
        SessionErrors,
    )
)]
pub(crate) async fn leave(
    State(state): State<AppState>,
    user: AuthUser,
    Path(event_id): Path<String>,
) -> Result<StatusCode, TicketError> {
    let event_id = input::event_id(&event_id)?;
    waitlist_steps::leave(&state, &user, event_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Accept an offer
///
/// The offered seats become a pending order, held like any booking (`HOLD_SECS`) and priced as
/// the catalogue prices the type now; pay it as usual. Only while the offer runs.
#[utoipa::path(
    post,
    path = "/api/tickets/waitlist/{entry_id}/accept",
    tag = "waitlist",
    params(EntryPath),
    security(("cookieAuth" = [])),
    responses(
        (status = 201, description = "The pending order the offer became.", body = BookingResponse),
        (status = 404, description = "`waitlist_entry_not_found`: no such entry, or not the caller's.", body = ErrorBody),
        (status = 409, description = "`no_offer`: the entry holds no running offer (still waiting, answered, or run out); `event_not_bookable`: the event is cancelled or started.", body = ErrorBody),
        SessionCatalogErrors,
    )
)]
pub(crate) async fn accept(
    State(state): State<AppState>,
    user: AuthUser,
    IncomingTrace(incoming): IncomingTrace,
    Path(entry_id): Path<String>,
) -> Result<(StatusCode, Json<BookingResponse>), TicketError> {
    let order = waitlist_steps::accept(&state, &user, &entry_id, incoming.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(view::booking(&order))))
}

/// Decline an offer
///
/// The entry ends (`declined`) and its seats go to the next entries in line.
#[utoipa::path(
    post,
    path = "/api/tickets/waitlist/{entry_id}/decline",
    tag = "waitlist",
    params(EntryPath),
    security(("cookieAuth" = [])),
    responses(
        (status = 200, description = "The declined entry.", body = WaitlistEntryView),
        (status = 404, description = "`waitlist_entry_not_found`: no such entry, or not the caller's.", body = ErrorBody),
        (status = 409, description = "`no_offer`: the entry holds no running offer.", body = ErrorBody),
        SessionErrors,
    )
)]
pub(crate) async fn decline(
    State(state): State<AppState>,
    user: AuthUser,
    Path(entry_id): Path<String>,
) -> Result<Json<WaitlistEntryView>, TicketError> {
    Ok(Json(
        waitlist_steps::decline(&state, &user, &entry_id).await?,
    ))
}

/// An event's waitlist lengths
///
/// For the event's organizer or an admin: per ticket type (in the catalogue's order), the entries
/// waiting and the seats they ask for, and the entries holding an offer.
#[utoipa::path(
    get,
    path = "/api/tickets/events/{event_id}/waitlist/lengths",
    tag = "waitlist",
    params(EventPath),
    security(("cookieAuth" = [])),
    responses(
        (status = 200, description = "The waitlist of every ticket type.", body = WaitlistLengths),
        UnmanagedEvent,
        SessionCatalogErrors,
    )
)]
pub(crate) async fn lengths(
    State(state): State<AppState>,
    user: AuthUser,
    Path(event_id): Path<String>,
) -> Result<Json<WaitlistLengths>, TicketError> {
    let stock = managed_event(&state, &user, &event_id).await?;
    let lengths = state.store.waitlist_lengths(stock.event.id).await?;
    Ok(Json(WaitlistLengths {
        ticket_types: lengths.into_iter().map(waitlist_steps::length).collect(),
    }))
}
