//! The auth service's OpenAPI 3.1 document, generated from the annotations on its route handlers
//! and the answer types of `api_types::auth`, served at [`PATH`] (committed as
//! `docs/openapi/auth.json`).

use platform::openapi::About;
use utoipa::OpenApi;

/// Where the service serves its document.
pub const PATH: &str = "/api/auth/openapi.json";

const ABOUT: About = About {
    title: "Auth service",
    version: env!("CARGO_PKG_VERSION"),
    description: "Accounts, password sign-in and server-side cookie sessions. Every error \
                  answers with the shared `ErrorBody` shape.",
    path: PATH,
};

/// The service's own operations; the schemas are collected from their bodies.
#[derive(OpenApi)]
#[openapi(
    paths(
        crate::routes::register,
        crate::routes::login,
        crate::routes::logout,
        crate::routes::me,
        crate::routes::verify,
    ),
    tags((name = "auth", description = "Accounts and sessions."))
)]
struct Operations;

/// The service's OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    platform::openapi::document(&ABOUT, Operations::openapi())
}
