//! OpenAPI pieces every service's document shares, written once: the head of the document
//! ([`About`]), the error shape ([`ErrorBody`]) and the error answers most operations give
//! ([`InternalError`], [`SessionErrors`], [`MalformedJson`], [`BodyRejected`], and
//! [`error_answers!`] for a service's own), the session
//! cookie security scheme, `GET /health`, `GET /ready` and the route that serves the document.
//!
//! A service derives an `OpenApi` listing only its own operations and tags, and hands it to
//! [`document`] with its [`About`]; its router serves the result with [`route`].

use std::collections::BTreeMap;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use bytes::Bytes;
use serde::Serialize;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::{Content, Info, License, OpenApi, Ref, RefOr, ResponseBuilder, Schema};
use utoipa::{Modify, ToSchema};

pub use crate::error::{ErrorBody, ErrorDetail};

/// The head of a service's document.
pub struct About {
    pub title: &'static str,
    /// The service's `env!("CARGO_PKG_VERSION")`.
    pub version: &'static str,
    pub description: &'static str,
    /// Where the service serves the document, e.g. `/api/auth/openapi.json`.
    pub path: &'static str,
}

impl About {
    fn info(&self) -> Info {
        // Every crate of the workspace carries the workspace's license.
        const LICENSE: &str = env!("CARGO_PKG_LICENSE");
        let mut info = Info::new(self.title, self.version);
        info.description = Some(format!("{}\n\n{EVERY_SERVICE}", self.description));
        let mut license = License::new(LICENSE);
        license.identifier = Some(LICENSE.to_string());
        info.license = Some(license);
        info
    }
}

/// What every operation of every service may also answer, said once per document.
pub const EVERY_SERVICE: &str = "Every state-changing operation refuses a request from another site \
     with 403 `cross_site_request`: it needs `Sec-Fetch-Site: same-origin` (or `none`), else an \
     `Origin` naming the host it was sent to, else (not a browser) a content type no HTML form \
     sends. A request whose body is not sent and answered within `HTTP_REQUEST_TIMEOUT_SECS` gets \
     408 `request_timeout`.";

/// Stands for [`About::path`] until [`document`] puts the service's path in its place.
const DOCUMENT_PATH: &str = "/openapi.json";

/// What every document ends with: this document's own route, the health checks, the error shape
/// and the `cookieAuth` scheme, under the tag `operations`.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(serve_document, health, ready),
    components(schemas(ErrorBody)),
    modifiers(&CookieAuth),
    tags((name = "operations", description = "Health checks and this document."))
)]
struct Shared;

/// A service's whole document: the head from `about`, then the service's own operations, schemas
/// and tags (`own`), then what every service shares.
pub fn document(about: &About, own: OpenApi) -> OpenApi {
    let mut doc = own;
    doc.info = about.info();
    let mut shared = <Shared as utoipa::OpenApi>::openapi();
    shared.paths.paths = std::mem::take(&mut shared.paths.paths)
        .into_iter()
        .map(|(path, item)| match path.as_str() {
            DOCUMENT_PATH => (about.path.to_string(), item),
            _ => (path, item),
        })
        .collect();
    doc.merge(shared);
    doc
}

/// A router answering `GET path` with `document`, serialized once.
pub fn route<S>(path: &str, document: &OpenApi) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let body = Bytes::from(serde_json::to_vec(document).expect("the document serializes"));
    Router::new().route(
        path,
        get(move || {
            let body = body.clone();
            async move { ([(header::CONTENT_TYPE, "application/json")], body) }
        }),
    )
}

/// Replaces the description of the component schema `name`: for a service that says more about a
/// shared type than the type itself does (e.g. where its copy of an order's status comes from).
///
/// # Panics
/// When the document has no such schema, or it is a reference: a wrong name must fail the
/// drift test, not vanish.
pub fn describe(doc: &mut OpenApi, name: &str, description: &str) {
    let schema = doc
        .components
        .as_mut()
        .and_then(|c| c.schemas.get_mut(name));
    match schema {
        Some(RefOr::T(Schema::Object(object))) => {
            object.description = Some(description.to_string());
        }
        _ => panic!("the document has no object or enum schema named {name}"),
    }
}

/// What an operation's error answers say, keyed by status: every one has the [`ErrorBody`] shape,
/// so a list of error answers is only statuses and descriptions. Behind [`error_answers!`].
pub fn error_answers(answers: &[(u16, &str)]) -> macro_support::Answers {
    answers
        .iter()
        .map(|(status, description)| {
            let shape = Content::new(Some(Ref::from_schema_name("ErrorBody")));
            let answer = ResponseBuilder::new()
                .description(*description)
                .content("application/json", shape)
                .build();
            (status.to_string(), RefOr::T(answer))
        })
        .collect()
}

/// Declares sets of error answers an operation lists in `responses(...)`, each a status and its
/// description (the body is always [`ErrorBody`]). A set may include other sets after a colon,
/// for answers that always come together (a check that needs the caller's session answers what
/// the session check answers too):
///
/// ```text
/// platform::error_answers! {
///     /// How every staff route answers a caller who may not manage the event.
///     pub StaffAccess: platform::openapi::SessionErrors {
///         403 => "`forbidden`: only the event's organizer or an admin may do this.",
///         404 => "`event_not_found`: no such event.",
///     }
/// }
/// ```
#[macro_export]
macro_rules! error_answers {
    ($($(#[$doc:meta])* $vis:vis $name:ident $(: $($included:path),+)? { $($status:literal => $description:expr),+ $(,)? })+) => {
        $(
            $(#[$doc])*
            $vis struct $name;

            impl $crate::openapi::macro_support::IntoResponses for $name {
                fn responses() -> $crate::openapi::macro_support::Answers {
                    // The set's own answers come last: they say more than an included one of
                    // the same status.
                    let mut answers = $crate::openapi::macro_support::Answers::new();
                    $($(
                        answers.extend(
                            <$included as $crate::openapi::macro_support::IntoResponses>::responses(),
                        );
                    )+)?
                    answers.extend($crate::openapi::error_answers(&[$(($status, $description)),+]));
                    answers
                }
            }
        )+
    };
}

/// What [`error_answers!`] expands to names, from the crate that uses it.
#[doc(hidden)]
pub mod macro_support {
    pub use utoipa::IntoResponses;

    /// What [`IntoResponses::responses`] returns.
    pub type Answers = std::collections::BTreeMap<
        String,
        utoipa::openapi::RefOr<utoipa::openapi::response::Response>,
    >;
}

crate::error_answers! {
    /// `500 internal_error`: any operation can answer it.
    pub InternalError {
        500 => "`internal_error`.",
    }

    /// The answers of an operation that needs a session, when there is none, it cannot be checked,
    /// or anything else fails.
    pub SessionErrors {
        401 => "`unauthorized`: no valid session.",
        503 => "`auth_unavailable`: the session cannot be checked right now.",
        500 => "`internal_error`.",
    }

    /// `400 malformed_json`: an operation that reads a JSON body got something else.
    pub MalformedJson {
        400 => "`malformed_json`: the body is not JSON.",
    }

    /// How an operation that reads a JSON body refuses one it will not read.
    pub BodyRejected {
        413 => "`payload_too_large`: the body is over 64 KiB.",
        415 => "`unsupported_media_type`: the body is not `application/json`.",
    }
}

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

/// Answers with a document serialized once (`LazyLock<String>` in a service that does not use
/// [`route`] yet).
pub fn serve_json(document: &'static str) -> axum::response::Response {
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

// Only the operation's description is used: `route` serves the document, at the path of the
// service's `About`.
/// This OpenAPI document
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    operation_id = "serve",
    responses((status = 200, description = "The service's OpenAPI 3.1 document.", body = Object))
)]
#[allow(dead_code)]
async fn serve_document() {}
