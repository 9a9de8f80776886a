//! The ticket service's OpenAPI 3.1 document, generated from the annotations on its route
//! handlers and served at `GET /api/tickets/openapi.json` (committed as
//! `docs/openapi/ticket.json`). It sits above the routes: it lists their handlers, whose answer
//! types (`api_types::orders`) give the schemas; the routes know nothing of it.

use std::sync::LazyLock;

use axum::Router;
use axum::response::Response;
use axum::routing::get;
use platform::openapi::CookieAuth;
use utoipa::OpenApi;

use crate::routes::{availability, checkin, orders, organizer, queue, waitlist};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Ticket service",
        version = env!("CARGO_PKG_VERSION"),
        description = "Inventory, booking, orders and e-tickets. Amounts are exact: a JSON number \
                       (`25.5`) with its integer minor units beside it. Every error answers with \
                       the shared `ErrorBody` shape."
    ),
    paths(
        orders::book,
        orders::my_orders,
        orders::show_order,
        orders::cancel_order,
        availability::availability,
        availability::availability_stream,
        organizer::refund_order,
        organizer::event_orders,
        organizer::attendees_csv,
        organizer::event_summary,
        checkin::check_in,
        checkin::checkin_bundle,
        waitlist::join,
        waitlist::my_entries,
        waitlist::leave,
        waitlist::accept,
        waitlist::decline,
        waitlist::lengths,
        queue::join,
        queue::my_place,
        queue::my_place_live,
        serve,
        platform::openapi::health,
        platform::openapi::ready,
    ),
    components(schemas(platform::openapi::ErrorBody)),
    modifiers(&CookieAuth),
    tags(
        (name = "orders", description = "Booking and the buyer's orders."),
        (name = "availability", description = "Seats left per ticket type."),
        (name = "organizer", description = "The organizer's back office of an event: its orders, \
                                            attendees and summary, and refunds. For the event's \
                                            organizer and admins only (the attendee list also \
                                            for its check-in staff)."),
        (name = "check-in", description = "The door: scans and the offline bundle, for the \
                                           event's organizer, admins and the check-in staff the \
                                           organizer named."),
        (name = "waitlist", description = "Waitlists of sold-out ticket types: freed seats are \
                                           offered to the entries in join order."),
        (name = "waiting room", description = "The queue of an on-sale (`onSaleAt`, `queue` on \
                                              the event): places, waits and the pass booking \
                                              needs while it is on."),
        (name = "operations", description = "Health checks and this document."),
    )
)]
struct ApiDoc;

/// The service's OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.description = doc
        .info
        .description
        .map(|own| format!("{own}\n\n{}", platform::openapi::EVERY_SERVICE));
    doc
}

static DOCUMENT: LazyLock<String> =
    LazyLock::new(|| serde_json::to_string(&openapi()).expect("the document serializes"));

/// This OpenAPI document
#[utoipa::path(
    get,
    path = "/api/tickets/openapi.json",
    tag = "operations",
    responses((status = 200, description = "The service's OpenAPI 3.1 document.", body = Object))
)]
async fn serve() -> Response {
    platform::openapi::serve_json(&DOCUMENT)
}

/// The route that serves this document.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/api/tickets/openapi.json", get(serve))
}
