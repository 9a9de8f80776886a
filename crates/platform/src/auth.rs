//! Who is calling: the `AuthUser` extractor asks the auth service's `/api/auth/verify` with the
//! caller's cookie, as the seed's services do.

use std::time::Duration;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};

use crate::error::ApiError;

// Who a caller is, as `GET /api/auth/verify` answers: the shapes are the auth service's answer
// types, shared with every client of that route.
pub use api_types::auth::{Role, VerifiedUser, VerifyResponse};

/// Client for the auth service; cheap to clone (one connection pool shared by all requests).
#[derive(Clone)]
pub struct AuthClient {
    http: reqwest::Client,
    verify_url: String,
}

impl AuthClient {
    /// `timeout` bounds every verification, so a slow auth service never hangs a request.
    pub fn new(base_url: &str, timeout: Duration) -> Self {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .pool_max_idle_per_host(64)
            .build()
            .expect("a client without TLS always builds");
        Self {
            http,
            verify_url: format!("{}/api/auth/verify", base_url.trim_end_matches('/')),
        }
    }

    /// The configured auth service (`AUTH_SERVICE_URL`, bounded by `AUTH_TIMEOUT_MS`).
    pub fn from_links(links: &crate::config::LinksConfig) -> Self {
        Self::new(&links.auth_url, links.auth_timeout)
    }

    /// `Ok(None)` when the session is missing, expired or unknown; `Err` (503) when the auth
    /// service cannot answer.
    pub async fn verify(&self, cookie: &str) -> Result<Option<VerifiedUser>, ApiError> {
        let verified = self.ask_auth_service(cookie).await;
        let outcome = match &verified {
            Ok(Some(_)) => "valid",
            Ok(None) => "invalid",
            Err(_) => "unavailable",
        };
        crate::metrics::counter!(
            crate::metrics::names::SESSIONS_VERIFIED,
            "via" => "auth_service",
            "outcome" => outcome
        )
        .increment(1);
        verified
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
