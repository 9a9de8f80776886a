//! The event service's OpenAPI 3.1 document, generated from the annotations on its route
//! handlers, the answer types of `api_types::events` and the request bodies of `crate::input`,
//! served at [`PATH`] (committed as `docs/openapi/event.json`).

use platform::openapi::About;
use utoipa::OpenApi;

/// Where the service serves its document.
pub const PATH: &str = "/api/events/openapi.json";

const ABOUT: About = About {
    title: "Event service",
    version: env!("CARGO_PKG_VERSION"),
    description: "The event catalogue: organizers create and manage events, everyone browses \
                  the published ones. Every error answers with the shared `ErrorBody` shape.",
    path: PATH,
};

/// The service's own operations; the schemas are collected from their bodies.
#[derive(OpenApi)]
#[openapi(
    paths(
        crate::routes::list,
        crate::routes::create,
        crate::routes::mine,
        crate::routes::show,
        crate::routes::update,
        crate::routes::publish,
        crate::routes::cancel,
        crate::routes::list_staff,
        crate::routes::add_staff,
        crate::routes::remove_staff,
    ),
    tags(
        (name = "events", description = "The catalogue and its life cycle: draft -> published -> cancelled."),
        (name = "staff", description = "The people an organizer names to scan tickets at the door."),
    )
)]
struct Operations;

/// The service's OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    platform::openapi::document(&ABOUT, Operations::openapi())
}
