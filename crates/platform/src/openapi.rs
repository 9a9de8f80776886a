//! OpenAPI pieces every service's document shares: the error shape ([`ErrorBody`]), the session
//! cookie security scheme, `GET /health` and `GET /ready`, and the handler that serves a document.
//! Each service derives its own document (`<service>::openapi()`) and lists these in it.

use std::collections::BTreeMap;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, ToSchema};

pub use crate::error::{ErrorBody, ErrorDetail};

/// Name of the security scheme of routes that need a session: `security(("cookieAuth" = []))`.
pub const COOKIE_AUTH: &str = "cookieAuth";

/// Adds the `cookieAuth` security scheme: the session cookie `sid` that `POST /api/auth/login`
/// and `POST /api/auth/register` set (its name is `SESSION_COOKIE_NAME`, `sid` by default).
pub struct CookieAuth;

impl Modify for CookieAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            COOKIE_AUTH,
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "sid",
                "The session cookie set by `POST /api/auth/login` and `POST /api/auth/register` \
                 (HttpOnly, SameSite=Lax). Services other than auth verify it with \
                 `GET /api/auth/verify`; when the auth service cannot answer they reply 503 \
                 `auth_unavailable`.",
            ))),
        );
    }
}

/// Answers with a document serialized once (`LazyLock<String>` in each service).
pub fn serve_json(document: &'static str) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], document).into_response()
}

/// The answer of `GET /health`.
#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: HealthStatus,
    /// The service's name, e.g. `event-service`.
    #[schema(example = "event-service")]
    pub service: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    Ok,
}

/// The answer of `GET /ready`, 200 or 503.
#[derive(Serialize, ToSchema)]
pub struct Readiness {
    pub status: ReadyStatus,
    #[schema(example = "event-service")]
    pub service: String,
    /// One entry per dependency: `store`, and `nats` for the services that use the broker.
    #[schema(example = json!({"store": {"status": "ok"}, "nats": {"status": "down", "error": "disconnected"}}))]
    pub checks: BTreeMap<String, Check>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReadyStatus {
    Ready,
    NotReady,
}

#[derive(Serialize, ToSchema)]
pub struct Check {
    pub status: CheckStatus,
    /// Why the check failed (`timed out` after 2 s); only when `down`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Ok,
    Down,
}

/// Liveness: the process answers.
#[utoipa::path(
    get,
    path = "/health",
    tag = "operations",
    responses((status = 200, description = "The process is alive.", body = Health))
)]
pub async fn health() {}

/// Readiness: the service's store (and NATS, where used) answer.
///
/// Each check is bounded by 2 seconds.
#[utoipa::path(
    get,
    path = "/ready",
    tag = "operations",
    responses(
        (status = 200, description = "Every dependency answers.", body = Readiness),
        (status = 503, description = "At least one dependency is down; `checks` names it.", body = Readiness),
    )
)]
pub async fn ready() {}
