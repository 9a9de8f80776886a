//! The event service's OpenAPI 3.1 document, generated from the annotations on its route
//! handlers and served at `GET /api/events/openapi.json` (committed as `docs/openapi/event.json`).

use std::sync::LazyLock;

use axum::response::Response;
use platform::openapi::CookieAuth;
use serde::Serialize;
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::domain::Category;
use crate::view::EventView;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Event service",
        version = env!("CARGO_PKG_VERSION"),
        description = "The event catalogue: organizers create and manage events, everyone browses \
                       the published ones. Every error answers with the shared `ErrorBody` shape."
    ),
    paths(
        crate::routes::list,
        crate::routes::create,
        crate::routes::mine,
        crate::routes::show,
        crate::routes::update,
        crate::routes::publish,
        crate::routes::cancel,
        serve,
        platform::openapi::health,
        platform::openapi::ready,
    ),
    components(schemas(platform::openapi::ErrorBody)),
    modifiers(&CookieAuth),
    tags(
        (name = "events", description = "The catalogue and its life cycle: draft -> published -> cancelled."),
        (name = "operations", description = "Health checks and this document."),
    )
)]
struct ApiDoc;

/// The service's OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

static DOCUMENT: LazyLock<String> =
    LazyLock::new(|| serde_json::to_string(&openapi()).expect("the document serializes"));

/// This OpenAPI document
#[utoipa::path(
    get,
    path = "/api/events/openapi.json",
    tag = "operations",
    responses((status = 200, description = "The service's OpenAPI 3.1 document.", body = Object))
)]
pub(crate) async fn serve() -> Response {
    platform::openapi::serve_json(&DOCUMENT)
}

/// The query string of `GET /api/events` (documentation only: the handler parses it by hand so
/// every bad parameter is named).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CatalogQuery {
    /// One of the categories, any case.
    #[param(value_type = Option<Category>)]
    pub category: Option<String>,
    /// A substring of the title or description, any case (`%` and `_` are plain characters).
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// The whole city name, any case, surrounding spaces ignored.
    #[param(max_length = 100, example = "Chicago")]
    pub city: Option<String>,
    /// Events starting at or after: a date (`2030-05-01`, from the start of that UTC day) or an
    /// RFC 3339 date and time.
    #[param(example = "2030-05-01")]
    pub from: Option<String>,
    /// Events starting at or before: a date (`2030-05-31`, to the end of that UTC day) or an RFC
    /// 3339 date and time; not before `from`.
    #[param(example = "2030-05-31T23:00:00Z")]
    pub to: Option<String>,
    /// The page, from 1; a page past the end is empty but still tells `total`.
    #[param(minimum = 1, default = 1)]
    pub page: Option<u32>,
    /// Events per page.
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<u32>,
}

/// The status a new event starts in.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum InitialStatus {
    Draft,
    Published,
}

/// `{"event": ...}`.
#[derive(Serialize, ToSchema)]
pub struct EventResponse {
    pub event: EventView,
}

/// One page of the catalogue.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventPage {
    pub events: Vec<EventView>,
    /// Matching events on all pages.
    pub total: u64,
    pub page: u32,
    pub limit: u32,
    pub total_pages: u64,
}

/// The caller's events.
#[derive(Serialize, ToSchema)]
pub struct MyEvents {
    pub events: Vec<EventView>,
    pub total: u64,
}
