//! The `AuthUser` extractor against a fake auth service that is up, down or slow.

use std::time::{Duration, Instant};

use axum::extract::FromRef;
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use platform::testing::{TestClient, TestServer, free_port};
use platform::{AuthClient, AuthUser, MaybeAuthUser};
use serde_json::json;

/// Answers like `/api/auth/verify`: cookie `sid=good` is Ada, anything else is 401.
fn fake_auth(delay: Duration) -> Router {
    Router::new().route(
        "/api/auth/verify",
        get(move |headers: HeaderMap| async move {
            tokio::time::sleep(delay).await;
            let cookie = headers.get("cookie").and_then(|v| v.to_str().ok()).unwrap_or("");
            if cookie.contains("sid=good") {
                Ok(Json(json!({"user": {
                    "id": "7f6b4a8e-0000-4000-8000-000000000001",
                    "email": "ada@example.com", "firstName": "Ada", "lastName": "Lovelace", "role": "user"
                }})))
            } else {
                Err(axum::http::StatusCode::UNAUTHORIZED)
            }
        }),
    )
}

#[derive(Clone)]
struct State {
    auth: AuthClient,
}

impl FromRef<State> for AuthClient {
    fn from_ref(s: &State) -> AuthClient {
        s.auth.clone()
    }
}

async fn app(auth_url: &str) -> TestServer {
    let state = State {
        auth: AuthClient::new(auth_url, Duration::from_millis(300)),
    };
    let router = Router::new()
        .route(
            "/private",
            get(|user: AuthUser| async move { user.email.clone() }),
        )
        .route(
            "/public",
            get(|user: MaybeAuthUser| async move {
                user.0
                    .map(|u| u.email)
                    .unwrap_or_else(|| "anonymous".into())
            }),
        )
        .with_state(state);
    TestServer::spawn(router).await
}

async fn get_with_cookie(server: &TestServer, path: &str, cookie: Option<&str>) -> (u16, String) {
    let client = TestClient::new(server.url());
    let mut req = client.http.get(client.url(path));
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let res = client.send(req).await;
    (res.status, res.text)
}

#[tokio::test]
async fn a_valid_session_yields_the_user() {
    let auth = TestServer::spawn(fake_auth(Duration::ZERO)).await;
    let app = app(&auth.url()).await;
    assert_eq!(
        get_with_cookie(&app, "/private", Some("sid=good")).await,
        (200, "ada@example.com".into())
    );
}

#[tokio::test]
async fn a_missing_or_invalid_session_is_401() {
    let auth = TestServer::spawn(fake_auth(Duration::ZERO)).await;
    let app = app(&auth.url()).await;
    let (status, body) = get_with_cookie(&app, "/private", None).await;
    assert_eq!(status, 401);
    assert!(body.contains("\"unauthorized\""));
    assert_eq!(
        get_with_cookie(&app, "/private", Some("sid=bad")).await.0,
        401
    );
    assert_eq!(
        get_with_cookie(&app, "/public", Some("sid=bad")).await,
        (200, "anonymous".into())
    );
}

#[tokio::test]
async fn a_stopped_auth_service_is_503_with_a_clear_code() {
    let app = app(&format!("http://127.0.0.1:{}", free_port())).await;
    let (status, body) = get_with_cookie(&app, "/private", Some("sid=good")).await;
    assert_eq!(status, 503);
    assert!(body.contains("\"auth_unavailable\""), "{body}");
    // Public pages stay up, as anonymous.
    assert_eq!(
        get_with_cookie(&app, "/public", Some("sid=good")).await,
        (200, "anonymous".into())
    );
}

#[tokio::test]
async fn a_slow_auth_service_is_503_after_the_timeout_never_a_hang() {
    let auth = TestServer::spawn(fake_auth(Duration::from_secs(5))).await;
    let app = app(&auth.url()).await;
    let started = Instant::now();
    let (status, body) = get_with_cookie(&app, "/private", Some("sid=good")).await;
    assert_eq!(status, 503);
    assert!(body.contains("\"auth_unavailable\""), "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
}
