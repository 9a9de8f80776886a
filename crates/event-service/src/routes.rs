//! The HTTP routes of the event service.

use api_types::checkin::{AddStaffRequest, StaffList};
use api_types::events::{CancelledEventResponse, EventPage, EventResponse, EventView, MyEvents};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use platform::extract::Json as JsonBody;
use platform::openapi::{BodyRejected, ErrorBody, InternalError, MalformedJson, SessionErrors};
use platform::query::RawQuery;
use platform::trace::TraceParent;
use platform::{AuthUser, MaybeAuthUser, VerifiedUser};
use uuid::Uuid;

use crate::domain::{Event, Status, shrunk_ticket_types};
use crate::error::{EventError, ManagedEventErrors, StaffAccess, StaffChangeRefused};
use crate::facts;
use crate::input::{CreateEventBody, UpdateEventBody};
use crate::query::{self, CatalogQuery};
use crate::staff::{self, Roster, StaffRefusal};
use crate::state::AppState;
use crate::view;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/events", get(list).post(create))
        .route("/api/events/my/events", get(mine))
        .route("/api/events/{id}", get(show).patch(update))
        .route("/api/events/{id}/publish", post(publish))
        .route("/api/events/{id}/cancel", post(cancel))
        .route(
            "/api/events/{id}/staff",
            get(list_staff).post(add_staff).delete(remove_staff),
        )
}

fn one_event(e: &Event) -> Json<EventResponse> {
    Json(view::one(e))
}

/// A malformed id names no event: 404 like an unknown one.
fn event_id(raw: &str) -> Result<Uuid, EventError> {
    Uuid::parse_str(raw).map_err(|_| EventError::NotFound)
}

platform::id_path! {
    /// The path of a route about one event, for the OpenAPI document; the handlers take the raw
    /// text and read it with [`event_id`].
    EventPath("id", "event");
}

/// Browse the catalogue
///
/// Published, active, not yet finished events, soonest first (ties by id). Empty parameter
/// values count as absent.
#[utoipa::path(
    get,
    path = "/api/events",
    tag = "events",
    params(CatalogQuery),
    responses(
        (status = 200, description = "One page of the catalogue.", body = EventPage),
        (status = 400, description = "`invalid_query`: an unknown, repeated or malformed parameter; `fields` names every one.", body = ErrorBody),
        InternalError,
    )
)]
async fn list(
    State(state): State<AppState>,
    query: RawQuery,
) -> Result<Json<EventPage>, EventError> {
    let pairs = platform::query::read(query).map_err(EventError::InvalidQuery)?;
    let filter = query::catalog_filter(&pairs).map_err(EventError::InvalidQuery)?;
    let page = state.store.catalog(&filter, Utc::now()).await?;
    Ok(Json(EventPage {
        events: page.events.iter().map(EventView::from).collect(),
        total: page.total,
        page: filter.page,
        limit: filter.limit,
        total_pages: page.total.div_ceil(u64::from(filter.limit)),
    }))
}

/// One event
///
/// Published events for everyone; drafts and cancelled events only for their organizer or an
/// admin (404 for everyone else). Works without a session, also while the auth service is down.
#[utoipa::path(
    get,
    path = "/api/events/{id}",
    tag = "events",
    params(EventPath),
    security((), ("cookieAuth" = [])),
    responses(
        (status = 200, description = "The event.", body = EventResponse),
        (status = 404, description = "`event_not_found`: no such event.", body = ErrorBody),
        InternalError,
    )
)]
async fn show(
    State(state): State<AppState>,
    MaybeAuthUser(user): MaybeAuthUser,
    Path(id): Path<String>,
) -> Result<Json<EventResponse>, EventError> {
    let id = event_id(&id)?;
    match state.store.get(id).await? {
        Some(event) if event.is_visible_to(user.as_ref()) => Ok(one_event(&event)),
        _ => Err(EventError::NotFound),
    }
}

/// The caller's events
///
/// Every event the caller created, in every status, newest first.
#[utoipa::path(
    get,
    path = "/api/events/my/events",
    tag = "events",
    security(("cookieAuth" = [])),
    responses(
        (status = 200, description = "The caller's events.", body = MyEvents),
        SessionErrors,
    )
)]
async fn mine(State(state): State<AppState>, user: AuthUser) -> Result<Json<MyEvents>, EventError> {
    let events: Vec<EventView> = state
        .store
        .created_by(user.id)
        .await?
        .iter()
        .map(EventView::from)
        .collect();
    Ok(Json(MyEvents {
        total: events.len() as u64,
        events,
    }))
}

/// Create an event
///
/// A published event (the default) is announced on `catalog.events.published` and can be booked
/// at once; a draft stays private until published.
#[utoipa::path(
    post,
    path = "/api/events",
    tag = "events",
    security(("cookieAuth" = [])),
    request_body = CreateEventBody,
    responses(
        (status = 201, description = "Created.", body = EventResponse),
        MalformedJson,
        SessionErrors,
        BodyRejected,
        (status = 422, description = "`validation_failed`: `fields` names every invalid field (e.g. `title`, `venue.city`, `ticketTypes[1].price`); `invalid_body`: a field has the wrong JSON type.", body = ErrorBody),
    )
)]
async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    TraceParent(trace): TraceParent,
    JsonBody(body): JsonBody<CreateEventBody>,
) -> Result<(StatusCode, Json<EventResponse>), EventError> {
    let now = platform::time::now();
    let event = body
        .into_event(&user, state.config.currency, now)
        .map_err(EventError::Invalid)?;
    let fact = match event.status {
        Status::Published => Some(facts::published(&event, &trace)?),
        _ => None,
    };
    state.store.insert(&event, fact.as_ref()).await?;
    state.wake_relay();
    tracing::info!(event_id = %event.id, status = event.status.as_str(), "event created");
    Ok((StatusCode::CREATED, one_event(&event)))
}

/// The event, if `user` may change it: 404 when there is none, 403 for everyone but its
/// organizer and admins.
async fn managed_event(
    state: &AppState,
    raw_id: &str,
    user: &VerifiedUser,
) -> Result<Event, EventError> {
    let event = state
        .store
        .get(event_id(raw_id)?)
        .await?
        .ok_or(EventError::NotFound)?;
    if !event.can_manage(user) {
        return Err(EventError::NotOwner);
    }
    Ok(event)
}

/// Writes the changed event if nobody else changed it since it was read.
async fn save(
    state: &AppState,
    event: &Event,
    read_version: u64,
    fact: Option<&platform::outbox::OutboxMessage>,
) -> Result<(), EventError> {
    if !state.store.replace(event, read_version, fact).await? {
        return Err(EventError::EditConflict);
    }
    if fact.is_some() {
        state.wake_relay();
    }
    Ok(())
}

/// Change an event
///
/// Any field, with the rules of creation; `ticketTypes` replaces the whole list. A change to a
/// published event is announced on `catalog.events.updated`.
#[utoipa::path(
    patch,
    path = "/api/events/{id}",
    tag = "events",
    params(EventPath),
    security(("cookieAuth" = [])),
    request_body = UpdateEventBody,
    responses(
        (status = 200, description = "The event as changed (unchanged if nothing differed).", body = EventResponse),
        MalformedJson,
        ManagedEventErrors,
        (status = 409, description = "`event_cancelled`, `event_finished`, `ticket_types_locked` (published ticket types would be removed or reduced; `fields.ticketTypes` says which) or `edit_conflict` (changed by someone else meanwhile).", body = ErrorBody),
        BodyRejected,
        (status = 422, description = "`validation_failed`: `fields` names every invalid field; `invalid_body`: a field has the wrong JSON type.", body = ErrorBody),
    )
)]
async fn update(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    TraceParent(trace): TraceParent,
    JsonBody(body): JsonBody<UpdateEventBody>,
) -> Result<Json<EventResponse>, EventError> {
    let now = platform::time::now();
    let current = managed_event(&state, &id, &user).await?;
    current.check_editable(now)?;
    let mut next = body.apply_to(&current).map_err(EventError::Invalid)?;
    if next == current {
        return Ok(one_event(&current));
    }
    let fact = if current.status == Status::Published {
        let shrunk = shrunk_ticket_types(&current.ticket_types, &next.ticket_types);
        if !shrunk.is_empty() {
            return Err(EventError::TicketTypesShrunk(shrunk));
        }
        next.touch(now);
        Some(facts::updated(&next, &trace)?)
    } else {
        next.touch(now);
        None
    };
    save(&state, &next, current.version, fact.as_ref()).await?;
    tracing::info!(event_id = %next.id, version = next.version, "event updated");
    Ok(one_event(&next))
}

/// Publish a draft
///
/// Announced on `catalog.events.published`; the event can be booked from then on.
#[utoipa::path(
    post,
    path = "/api/events/{id}/publish",
    tag = "events",
    params(EventPath),
    security(("cookieAuth" = [])),
    responses(
        (status = 200, description = "The published event.", body = EventResponse),
        ManagedEventErrors,
        (status = 409, description = "`already_published`, `event_cancelled`, `event_in_past` (move its date first) or `edit_conflict`.", body = ErrorBody),
    )
)]
async fn publish(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    TraceParent(trace): TraceParent,
) -> Result<Json<EventResponse>, EventError> {
    let now = platform::time::now();
    let mut event = managed_event(&state, &id, &user).await?;
    let read_version = event.version;
    event.publish(now)?;
    let fact = facts::published(&event, &trace)?;
    save(&state, &event, read_version, Some(&fact)).await?;
    tracing::info!(event_id = %event.id, "event published");
    Ok(one_event(&event))
}

/// Cancel an event
///
/// Final. Cancelling a published event is announced on `catalog.events.cancelled`: the ticket
/// service then cancels its pending orders and cancels and refunds its paid ones.
/// `ordersToRefund` is how many paid orders that is, asked from the ticket service with the
/// caller's session just before (null when it could not tell in time; the cancellation happens
/// all the same).
#[utoipa::path(
    post,
    path = "/api/events/{id}/cancel",
    tag = "events",
    params(EventPath),
    security(("cookieAuth" = [])),
    responses(
        (status = 200, description = "The cancelled event and how many paid orders it refunds.", body = CancelledEventResponse),
        ManagedEventErrors,
        (status = 409, description = "`already_cancelled`, `event_finished` or `edit_conflict`.", body = ErrorBody),
    )
)]
async fn cancel(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    TraceParent(trace): TraceParent,
    headers: HeaderMap,
) -> Result<Json<CancelledEventResponse>, EventError> {
    let now = platform::time::now();
    let mut event = managed_event(&state, &id, &user).await?;
    let (read_version, was_published) = (event.version, event.status == Status::Published);
    event.cancel(now)?;
    // A draft was never announced, so its cancellation is nobody else's business, and it never
    // had orders. A published event's paid orders are counted before the cancellation is
    // announced: from then on the ticket service refunds them and the count would shrink.
    let (fact, orders_to_refund) = if was_published {
        let cookie = headers.get(header::COOKIE).and_then(|v| v.to_str().ok());
        let count = state
            .tickets
            .confirmed_orders(event.id, cookie, &trace)
            .await;
        (Some(facts::cancelled(&event, now, &trace)?), count)
    } else {
        (None, Some(0))
    };
    save(&state, &event, read_version, fact.as_ref()).await?;
    tracing::info!(event_id = %event.id, orders_to_refund, "event cancelled");
    Ok(Json(view::cancelled(&event, orders_to_refund)))
}

/// Writes the event's new staff list with its fact, if nobody else changed the list since
/// `read` was read.
async fn save_staff(
    state: &AppState,
    event: &Event,
    read: &Roster,
    next: &Roster,
    trace: &str,
) -> Result<(), EventError> {
    let fact = facts::staff_changed(event, next, trace)?;
    if !state
        .store
        .save_staff(event.id, next, read.version, &fact)
        .await?
    {
        return Err(EventError::EditConflict);
    }
    state.wake_relay();
    Ok(())
}

/// The event the caller manages, the email a staff change names and the list as it is.
async fn staff_change(
    state: &AppState,
    raw_id: &str,
    user: &VerifiedUser,
    body: &AddStaffRequest,
) -> Result<(Event, String, Roster), EventError> {
    let event = managed_event(state, raw_id, user).await?;
    let email = staff::email(&body.email).map_err(EventError::Invalid)?;
    let roster = state.store.staff(event.id).await?;
    Ok((event, email, roster))
}

/// An event's check-in staff
///
/// The people the organizer named to scan tickets at the door, oldest first. For the event's
/// organizer or an admin.
#[utoipa::path(
    get,
    path = "/api/events/{id}/staff",
    tag = "staff",
    params(EventPath),
    security(("cookieAuth" = [])),
    responses(
        (status = 200, description = "The event's check-in staff.", body = StaffList),
        StaffAccess,
        InternalError,
    )
)]
async fn list_staff(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<StaffList>, EventError> {
    let event = managed_event(&state, &id, &user).await?;
    let roster = state.store.staff(event.id).await?;
    Ok(Json(view::staff(event.id, &roster)))
}

/// Name check-in staff
///
/// By email (any case; compared lower-cased with the email of the staff member's session):
/// they may then scan tickets of this event (`POST /api/tickets/checkin`), load its check-in
/// bundle and download its attendee list, but see no revenue and refund nothing. Announced on
/// `catalog.events.staff_changed` with the whole list. Naming someone already named changes
/// nothing (200).
#[utoipa::path(
    post,
    path = "/api/events/{id}/staff",
    tag = "staff",
    params(EventPath),
    security(("cookieAuth" = [])),
    request_body = AddStaffRequest,
    responses(
        (status = 201, description = "Named: the list as it is now.", body = StaffList),
        (status = 200, description = "Named already: the list, unchanged.", body = StaffList),
        MalformedJson,
        StaffAccess,
        StaffChangeRefused,
        BodyRejected,
    )
)]
async fn add_staff(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    TraceParent(trace): TraceParent,
    JsonBody(body): JsonBody<AddStaffRequest>,
) -> Result<(StatusCode, Json<StaffList>), EventError> {
    let (event, email, roster) = staff_change(&state, &id, &user, &body).await?;
    match staff::add(&roster, &email, platform::time::now()) {
        Ok(None) => Ok((StatusCode::OK, Json(view::staff(event.id, &roster)))),
        Ok(Some(next)) => {
            save_staff(&state, &event, &roster, &next, &trace).await?;
            tracing::info!(event_id = %event.id, by = %user.id, "check-in staff named");
            Ok((StatusCode::CREATED, Json(view::staff(event.id, &next))))
        }
        Err(_) => Err(EventError::StaffFull),
    }
}

/// Remove check-in staff
///
/// The body names the email (`{"email": ...}`, as when naming). From the moment the ticket
/// service hears of it (`catalog.events.staff_changed`), the person can no longer scan.
#[utoipa::path(
    delete,
    path = "/api/events/{id}/staff",
    tag = "staff",
    params(EventPath),
    security(("cookieAuth" = [])),
    request_body = AddStaffRequest,
    responses(
        (status = 200, description = "Removed: the list as it is now.", body = StaffList),
        MalformedJson,
        StaffAccess,
        StaffChangeRefused,
        BodyRejected,
    )
)]
async fn remove_staff(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    TraceParent(trace): TraceParent,
    JsonBody(body): JsonBody<AddStaffRequest>,
) -> Result<Json<StaffList>, EventError> {
    let (event, email, roster) = staff_change(&state, &id, &user, &body).await?;
    let next = staff::remove(&roster, &email).map_err(|refusal| match refusal {
        StaffRefusal::NotOnList => EventError::StaffNotFound,
        StaffRefusal::Full => EventError::StaffFull,
    })?;
    save_staff(&state, &event, &roster, &next, &trace).await?;
    tracing::info!(event_id = %event.id, by = %user.id, "check-in staff removed");
    Ok(Json(view::staff(event.id, &next)))
}
