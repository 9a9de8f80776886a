//! OpenAPI pieces every service's document shares, written once: the head of the document
//! ([`About`]), the error shape ([`ErrorBody`]) and the error answers most operations give
//! ([`InternalError`], [`NoSession`], [`SessionErrors`], [`MalformedJson`], [`BodyRejected`], and
//! [`error_answers!`] for a service's own), the path of a route about one thing ([`id_path!`]),
//! the session cookie security scheme, `GET /health`, `GET /ready` and the route that serves the
//! document.
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
use utoipa::openapi::Required;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
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

/// The path parameter of a route about one thing: its id, a UUID. The handlers read the raw text
/// and answer a malformed id like an unknown one, so the document says so for every such route
/// in the same words. Behind [`id_path!`].
pub fn id_in_path(name: &str, thing: &str) -> Parameter {
    let uuid = ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)));
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(format!(
            "The {thing}'s id (a malformed id is a 404 like an unknown one)."
        )))
        .schema(Some(uuid))
        .build()
}

/// Declares the path of a route about one thing, for `params(...)`: the parameter's name and
/// what the id names, documented by [`id_in_path`].
///
/// ```text
/// platform::id_path! {
///     /// The path of a route about one event, for the OpenAPI document.
///     pub EventPath("event_id", "event");
/// }
/// ```
#[macro_export]
macro_rules! id_path {
    ($($(#[$doc:meta])* $vis:vis $name:ident($param:literal, $thing:literal);)+) => {
        $(
            $(#[$doc])*
            $vis struct $name;

            impl $crate::openapi::macro_support::IntoParams for $name {
                fn into_params(
                    _: impl Fn() -> Option<$crate::openapi::macro_support::ParameterIn>,
                ) -> Vec<$crate::openapi::macro_support::Parameter> {
                    vec![$crate::openapi::id_in_path($param, $thing)]
                }
            }
        )+
    };
}

/// What [`error_answers!`] and [`id_path!`] expand to name, from the crate that uses them.
#[doc(hidden)]
pub mod macro_support {
    pub use utoipa::openapi::path::{Parameter, ParameterIn};
    pub use utoipa::{IntoParams, IntoResponses};

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

    /// `401 unauthorized`: an operation that needs a session got none, or a dead one.
    pub NoSession {
        401 => "`unauthorized`: no valid session.",
    }

    /// The answers of an operation that needs a session, when there is none, it cannot be checked,
    /// or anything else fails.
    pub SessionErrors: NoSession, InternalError {
        503 => "`auth_unavailable`: the session cannot be checked right now.",
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

#[cfg(test)]
mod tests {
    use serde_json::json;
    use utoipa::IntoParams;

    use super::macro_support::Answers;

    crate::id_path! {
        ThingPath("thing_id", "thing");
    }

    crate::error_answers! {
        Own {
            404 => "own 404",
        }

        Including: Own, super::SessionErrors {
            404 => "said more",
            409 => "conflict",
        }
    }

    fn descriptions(answers: Answers) -> Vec<(String, String)> {
        answers
            .into_iter()
            .map(|(status, answer)| {
                let answer = serde_json::to_value(answer).expect("serializes");
                (status, answer["description"].as_str().unwrap_or("").into())
            })
            .collect()
    }

    #[test]
    fn an_id_path_is_a_required_uuid_that_says_a_malformed_id_is_a_404() {
        let params = ThingPath::into_params(|| None);
        assert_eq!(
            serde_json::to_value(&params).expect("serializes"),
            json!([{
                "name": "thing_id",
                "in": "path",
                "description": "The thing's id (a malformed id is a 404 like an unknown one).",
                "required": true,
                "schema": {"type": "string", "format": "uuid"},
            }])
        );
    }

    #[test]
    fn a_set_of_error_answers_has_those_it_includes_and_its_own_say_more() {
        use utoipa::IntoResponses;
        assert_eq!(
            descriptions(Including::responses()),
            [
                ("401", "`unauthorized`: no valid session."),
                ("404", "said more"),
                ("409", "conflict"),
                ("500", "`internal_error`."),
                (
                    "503",
                    "`auth_unavailable`: the session cannot be checked right now."
                ),
            ]
            .map(|(s, d)| (s.to_string(), d.to_string()))
        );
    }
}
