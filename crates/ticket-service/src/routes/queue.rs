//! The waiting room of an on-sale, for signed-in visitors: `POST /api/tickets/events/:id/queue`
//! joins, `GET` shows the caller's place (and the pass once admitted), `GET .../queue/stream`
//! follows it live.

use std::convert::Infallible;
use std::time::Duration;

use api_types::queue::QueueStatus;
use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use platform::AuthUser;

use crate::error::{QueueErrors, TicketError};
use crate::input::{self, EventPath};
use crate::live::OpenStream;
use crate::state::AppState;
use crate::waiting_room::WaitingRoom;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/tickets/events/{event_id}/queue",
            get(my_place).post(join),
        )
        .route(
            "/api/tickets/events/{event_id}/queue/stream",
            get(my_place_live),
        )
}

/// Join the waiting room
///
/// Visitors who join before `onSaleAt` get a random place among every early arrival, drawn
/// shortly after `onSaleAt` (until then `position` is null); later ones queue behind them in
/// arrival order. Joining again returns the same entry.
#[utoipa::path(
    post,
    path = "/api/tickets/events/{event_id}/queue",
    tag = "waiting room",
    security(("cookieAuth" = [])),
    params(EventPath),
    responses(
        (status = 200, description = "The caller's entry.", body = QueueStatus),
        QueueErrors,
    )
)]
pub(crate) async fn join(
    State(state): State<AppState>,
    user: AuthUser,
    Path(event_id): Path<String>,
) -> Result<Json<QueueStatus>, TicketError> {
    let event_id = input::event_id(&event_id)?;
    Ok(Json(WaitingRoom::join(&state, event_id, user.id).await?))
}

/// The caller's place in the waiting room
///
/// `position` (1 is next), the estimated wait at the configured rate, and once admitted the
/// signed pass that `POST /api/tickets/book` wants in its `Queue-Pass` header.
#[utoipa::path(
    get,
    path = "/api/tickets/events/{event_id}/queue",
    tag = "waiting room",
    security(("cookieAuth" = [])),
    params(EventPath),
    responses(
        (status = 200, description = "The caller's place.", body = QueueStatus),
        QueueErrors,
    )
)]
pub(crate) async fn my_place(
    State(state): State<AppState>,
    user: AuthUser,
    Path(event_id): Path<String>,
) -> Result<Json<QueueStatus>, TicketError> {
    let event_id = input::event_id(&event_id)?;
    Ok(Json(WaitingRoom::status(&state, event_id, user.id).await?))
}

/// How often the live stream looks again.
const TICK: Duration = Duration::from_secs(1);

/// The caller's place, live (server-sent events)
///
/// A `text/event-stream`: the first event's `data` is the `QueueStatus` JSON as now, then one
/// more whenever the place, the wait or admission changes (looked at every second), with a
/// keep-alive comment every 15 seconds.
#[utoipa::path(
    get,
    path = "/api/tickets/events/{event_id}/queue/stream",
    tag = "waiting room",
    security(("cookieAuth" = [])),
    params(EventPath),
    responses(
        (status = 200, description = "An endless stream of `data: <QueueStatus JSON>` events.", content_type = "text/event-stream", body = String),
        QueueErrors,
    )
)]
pub(crate) async fn my_place_live(
    State(state): State<AppState>,
    user: AuthUser,
    Path(event_id): Path<String>,
) -> Result<Response, TicketError> {
    let event_id = input::event_id(&event_id)?;
    // From here on the place is read from this replica's index, which follows the bucket.
    let place = WaitingRoom::follow_place(&state, event_id, user.id).await?;
    let open = OpenStream::new();
    let events = futures::stream::unfold(
        (true, None::<QueueStatus>, place, open),
        move |(first, last, place, open)| async move {
            if !first {
                tokio::time::sleep(TICK).await;
            }
            loop {
                // The queue was turned off: end the stream.
                if !place.queue_open() {
                    return None;
                }
                let status = place.now();
                if last.as_ref().is_none_or(|l| changed(l, &status)) {
                    let event = Event::default().data(
                        serde_json::to_string(&status).expect("the status always serializes"),
                    );
                    return Some((
                        Ok::<_, Infallible>(event),
                        (false, Some(status), place, open),
                    ));
                }
                tokio::time::sleep(TICK).await;
            }
        },
    );
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}

/// What a visitor watching sees change (a fresh pass alone is not news).
fn changed(last: &QueueStatus, now: &QueueStatus) -> bool {
    (last.position, last.estimated_wait_secs, last.admitted)
        != (now.position, now.estimated_wait_secs, now.admitted)
}
