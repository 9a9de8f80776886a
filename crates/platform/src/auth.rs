//! Who is calling: the `AuthUser` extractor checks the caller's session cookie against the local
//! copy of the session records ([`local`]) when the service follows them, and asks the auth
//! service's `/api/auth/verify`, as the seed's services do, when the copy does not know the
//! session or is not current (NATS down, watch replaying).

pub mod local;
pub mod record;

use std::time::Duration;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};

use crate::error::ApiError;
use local::LocalSessions;
use record::LocalVerdict;

// Who a caller is, as `GET /api/auth/verify` answers: the shapes are the auth service's answer
// types, shared with every client of that route.
pub use api_types::auth::{Role, VerifiedUser, VerifyResponse};

/// Client for the auth service; cheap to clone (one connection pool shared by all requests).
#[derive(Clone)]
pub struct AuthClient {
    http: reqwest::Client,
    verify_url: String,
    local: Option<LocalSessions>,
}

impl AuthClient {
    /// `timeout` bounds every verification, so a slow auth service never hangs a request.
    pub fn new(base_url: &str, timeout: Duration) -> Self {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .pool_max_idle_per_host(64)
            .pool_idle_timeout(crate::http::CLIENT_POOL_IDLE)
            .build()
            .expect("a client without TLS always builds");
        Self {
            http,
            verify_url: format!("{}/api/auth/verify", base_url.trim_end_matches('/')),
            local: None,
        }
    }

    /// Checks sessions against a local copy of the `SESSIONS` bucket kept current over `nats`,
    /// asking the auth service only about sessions the copy does not know (and while it is not
    /// current). The session cookie's name is `SESSION_COOKIE_NAME`, as in the auth service.
    pub fn following_sessions(self, nats: async_nats::Client) -> Self {
        let cookie_name = crate::config::session_cookie_name();
        Self {
            local: Some(LocalSessions::follow(nats, &cookie_name)),
            ..self
        }
    }

    /// The local copy, when the client follows one.
    pub fn local_sessions(&self) -> Option<&LocalSessions> {
        self.local.as_ref()
    }

    /// The configured auth service (`AUTH_SERVICE_URL`, bounded by `AUTH_TIMEOUT_MS`).
    pub fn from_links(links: &crate::config::LinksConfig) -> Self {
        Self::new(&links.auth_url, links.auth_timeout)
    }

    /// `Ok(None)` when the session is missing, expired or unknown; `Err` (503) when the auth
    /// service cannot answer a question the local copy could not.
    pub async fn verify(&self, cookie: &str) -> Result<Option<VerifiedUser>, ApiError> {
        if let Some(local) = &self.local {
            let (verdict, hash) = local.check(cookie, crate::time::now());
            match verdict {
                LocalVerdict::Valid { user, touch } => {
                    if let (true, Some(hash)) = (touch, hash) {
                        self.touch_in_background(local, hash, cookie);
                    }
                    count("local", "valid");
                    return Ok(Some(user));
                }
                LocalVerdict::Invalid => {
                    count("local", "invalid");
                    return Ok(None);
                }
                LocalVerdict::Unknown => {}
            }
        }
        let verified = self.ask_auth_service(cookie).await;
        let outcome = match &verified {
            Ok(Some(_)) => "valid",
            Ok(None) => "invalid",
            Err(_) => "unavailable",
        };
        count("auth_service", outcome);
        verified
    }

    /// Sliding expiry: the auth service refreshes a session it is asked about, and then
    /// rewrites its record, so a session in use is asked about once per refresh interval (the
    /// request itself does not wait for it).
    fn touch_in_background(&self, local: &LocalSessions, hash: String, cookie: &str) {
        if !local.begin_touch(&hash) {
            return;
        }
        let client = Self {
            local: None,
            ..self.clone()
        };
        let local = local.clone();
        let cookie = cookie.to_string();
        tokio::spawn(async move {
            if let Err(e) = client.ask_auth_service(&cookie).await {
                tracing::debug!(error = ?e, "session refresh not delivered; the next use retries");
            }
            local.touched(&hash);
        });
    }

    async fn ask_auth_service(&self, cookie: &str) -> Result<Option<VerifiedUser>, ApiError> {
        let response = self
            .http
            .get(&self.verify_url)
            .header(header::COOKIE, cookie)
            .send()
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, timeout = e.is_timeout(), "auth service unreachable");
                auth_unavailable()
            })?;
        match response.status() {
            StatusCode::OK => {
                let body: VerifyResponse = response.json().await.map_err(|e| {
                    tracing::warn!(error = %e, "auth service sent an unreadable answer");
                    auth_unavailable()
                })?;
                Ok(Some(body.user))
            }
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Ok(None),
            other => {
                tracing::warn!(status = %other, "auth service failed to verify a session");
                Err(auth_unavailable())
            }
        }
    }
}

fn count(via: &'static str, outcome: &'static str) {
    crate::metrics::counter!(
        crate::metrics::names::SESSIONS_VERIFIED,
        "via" => via,
        "outcome" => outcome
    )
    .increment(1);
}

fn auth_unavailable() -> ApiError {
    ApiError::unavailable(
        "auth_unavailable",
        "Sign-in cannot be checked right now. Please try again in a moment.",
    )
}

fn cookie_header(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
}

/// A signed-in caller; rejects with 401 when there is no valid session, 503 when the auth service
/// is down or slow.
#[derive(Debug, Clone)]
pub struct AuthUser(pub VerifiedUser);

impl std::ops::Deref for AuthUser {
    type Target = VerifiedUser;
    fn deref(&self) -> &VerifiedUser {
        &self.0
    }
}

impl<S> FromRequestParts<S> for AuthUser
where
    AuthClient: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let cookie = cookie_header(parts).ok_or_else(ApiError::unauthorized)?;
        let client = AuthClient::from_ref(state);
        match client.verify(cookie).await? {
            Some(user) => Ok(AuthUser(user)),
            None => Err(ApiError::unauthorized()),
        }
    }
}

/// The caller if signed in. Public pages must keep working while the auth service is down, so an
/// unreachable auth service makes the caller anonymous (logged) instead of failing the request.
#[derive(Debug, Clone)]
pub struct MaybeAuthUser(pub Option<VerifiedUser>);

impl<S> FromRequestParts<S> for MaybeAuthUser
where
    AuthClient: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let caller = AuthUser::from_request_parts(parts, state).await;
        Ok(MaybeAuthUser(caller.ok().map(|AuthUser(user)| user)))
    }
}
