//! The notification service's OpenAPI 3.1 document, generated from the annotations on its route
//! handler and the types of `api_types::notifications`, served at [`PATH`] (committed as
//! `docs/openapi/notification.json`).

use platform::openapi::About;
use utoipa::OpenApi;

/// Where the service serves its document.
pub const PATH: &str = "/api/notifications/openapi.json";

const ABOUT: About = About {
    title: "Notification service",
    version: env!("CARGO_PKG_VERSION"),
    description: "Mails buyers and ticket holders what the facts on JetStream say happened \
                  (confirmations with tickets, declines, reminders, cancellations, refunds, \
                  event changes) and lists what was sent. Every error answers with the shared \
                  `ErrorBody` shape.",
    path: PATH,
};

#[derive(OpenApi)]
#[openapi(
    paths(crate::routes::mine),
    tags((name = "notifications", description = "The mails sent to the caller."))
)]
struct Operations;

/// The service's OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    platform::openapi::document(&ABOUT, Operations::openapi())
}
