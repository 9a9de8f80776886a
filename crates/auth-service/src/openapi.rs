//! The auth service's OpenAPI 3.1 document, generated from the annotations on its route handlers
//! and served at `GET /api/auth/openapi.json` (committed as `docs/openapi/auth.json`).

use std::sync::LazyLock;

use axum::response::Response;
use platform::openapi::CookieAuth;
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use crate::domain::User;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Auth service",
        version = env!("CARGO_PKG_VERSION"),
        description = "Accounts, password sign-in and server-side cookie sessions. Every error \
                       answers with the shared `ErrorBody` shape."
    ),
    paths(
        crate::routes::register,
        crate::routes::login,
        crate::routes::logout,
        crate::routes::me,
        crate::routes::verify,
        serve,
        platform::openapi::health,
        platform::openapi::ready,
    ),
    components(schemas(platform::openapi::ErrorBody)),
    modifiers(&CookieAuth),
    tags(
        (name = "auth", description = "Accounts and sessions."),
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
    path = "/api/auth/openapi.json",
    tag = "operations",
    responses((status = 200, description = "The service's OpenAPI 3.1 document.", body = Object))
)]
pub(crate) async fn serve() -> Response {
    platform::openapi::serve_json(&DOCUMENT)
}

/// `{"user": ...}`: the answer of register, login and `me`.
#[derive(Serialize, ToSchema)]
pub struct UserResponse {
    pub user: User,
}

/// `{"user": ...}`: the answer of `verify`, the subset the other services need.
#[derive(Serialize, ToSchema)]
pub struct VerifyResponse {
    pub user: platform::VerifiedUser,
}

/// `{"message": "Signed out."}`.
#[derive(Serialize, ToSchema)]
pub struct MessageResponse {
    #[schema(example = "Signed out.")]
    pub message: String,
}
