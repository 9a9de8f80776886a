//! Seats left per ticket type, public: `GET /api/tickets/events/:id/availability` and its live
//! stream.

use api_types::orders::Availability;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::error::{PublicEventErrors, TicketError};
use crate::input::{self, EventPath};
use crate::state::AppState;
use crate::store::{EventStatus, EventStock};
use crate::{catalog, live, view};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/tickets/events/{event_id}/availability",
            get(availability),
        )
        .route(
            "/api/tickets/events/{event_id}/availability/stream",
            get(availability_stream),
        )
}

/// The stock of an event anyone may see: not a draft.
async fn public_stock(state: &AppState, event_id: &str) -> Result<EventStock, TicketError> {
    let stock = catalog::event_stock(state, input::event_id(event_id)?).await?;
    if stock.event.status == EventStatus::Draft {
        return Err(TicketError::EventNotFound);
    }
    Ok(stock)
}

/// Seats left per ticket type
///
/// Public. An event not yet known to the ticket service is fetched from the catalogue first.
#[utoipa::path(
    get,
    path = "/api/tickets/events/{event_id}/availability",
    tag = "availability",
    params(EventPath),
    responses(
        (status = 200, description = "Capacity, sold, held and available seats per ticket type.", body = Availability),
        PublicEventErrors,
    )
)]
pub(crate) async fn availability(
    State(state): State<AppState>,
    Path(event_id): Path<String>,
) -> Result<Json<Availability>, TicketError> {
    let stock = public_stock(&state, &event_id).await?;
    Ok(Json(view::availability(&stock)))
}

/// Seats left, live (server-sent events)
///
/// A `text/event-stream`: the first event's `data` is the availability JSON (the `Availability`
/// schema) as now, then one more after every booking, expiry, payment or catalogue change of the
/// event (bursts coalesced), with a keep-alive comment every 15 seconds.
#[utoipa::path(
    get,
    path = "/api/tickets/events/{event_id}/availability/stream",
    tag = "availability",
    params(EventPath),
    responses(
        (status = 200, description = "An endless stream of `data: <Availability JSON>` events.", content_type = "text/event-stream", body = String),
        PublicEventErrors,
    )
)]
pub(crate) async fn availability_stream(
    State(state): State<AppState>,
    Path(event_id): Path<String>,
) -> Result<Response, TicketError> {
    // Subscribed before reading, so a booking in between still sends an update.
    let changes = state.changes.subscribe();
    let stock = public_stock(&state, &event_id).await?;
    let first = view::availability(&stock);
    Ok(live::stream(state.store.clone(), changes, stock.event.id, first).into_response())
}
