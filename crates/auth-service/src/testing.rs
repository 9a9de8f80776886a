//! A real auth service for tests: in-memory SQLite, cheap bcrypt, served on a random port.

use std::sync::Arc;
use std::time::Duration;

use platform::config::BaseConfig;
use platform::testing::{TestClient, TestResponse, TestServer};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::config::AuthConfig;
use crate::store::{AuthStore, SqliteStore};
use crate::throttle::Limit;

/// Settings for tests: bcrypt cost 4 keeps a registration around a millisecond.
pub fn config() -> AuthConfig {
    AuthConfig {
        base: BaseConfig::in_memory(),
        bcrypt_cost: 4,
        session_idle: Duration::from_secs(3600),
        session_max_age: Duration::from_secs(86_400),
        cookie_name: "sid".into(),
        nats_url: None,
        cookie_secure: false,
        admin: None,
        login_per_account: Limit {
            max: 10,
            window: Duration::from_secs(900),
        },
        login_per_address: Limit {
            max: 50,
            window: Duration::from_secs(900),
        },
        // Test stacks sign up many buyers from one address.
        registrations_per_address: Limit::NONE,
    }
}

/// A running auth service with a fresh in-memory store.
pub async fn spawn() -> TestServer {
    spawn_with(config()).await
}

pub async fn spawn_with(config: AuthConfig) -> TestServer {
    let store: Arc<dyn AuthStore> = Arc::new(SqliteStore::in_memory().expect("in-memory store"));
    spawn_with_store(config, store).await
}

pub async fn spawn_with_store(config: AuthConfig, store: Arc<dyn AuthStore>) -> TestServer {
    let app = crate::build_with_store(config, store)
        .await
        .expect("auth service builds");
    TestServer::spawn(platform::service::router(app.state)).await
}

/// The admin account other crates' test stacks bootstrap (`ADMIN_EMAIL`/`ADMIN_PASSWORD`).
pub const ADMIN_EMAIL: &str = "admin@example.com";
/// The password of every test account.
pub const PASSWORD: &str = "correct-horse";

/// The body of `POST /api/auth/register` for Ada Lovelace at `email` with `password`.
pub fn registration(email: &str, password: &str) -> Value {
    json!({"email": email, "password": password, "firstName": "Ada", "lastName": "Lovelace"})
}

/// Registers `email` with [`PASSWORD`] through `client` (which keeps the cookie).
pub async fn register(client: &TestClient, email: &str) -> TestResponse {
    let res = client
        .post("/api/auth/register", &registration(email, PASSWORD))
        .await;
    assert_eq!(res.status, 201, "registration failed: {}", res.text);
    res
}

/// `POST /api/auth/login` with `email` and `password` through `client` (the auth service, or a
/// gateway in front of it); the client keeps the cookie of a session it opens.
pub async fn log_in(client: &TestClient, email: &str, password: &str) -> TestResponse {
    client
        .post(
            "/api/auth/login",
            &json!({"email": email, "password": password}),
        )
        .await
}

/// A signed-in browser against `base` (any service that proxies or shares the auth cookie).
pub async fn signed_in(auth: &TestServer, email: &str) -> (TestClient, Value) {
    let client = TestClient::new(auth.url());
    let user = register(&client, email).await.json()["user"].clone();
    (client, user)
}

/// A new user signed in with the auth service, with a client for the service at `base` sharing
/// the session cookie, and the user's id.
pub async fn signed_in_at(auth: &TestServer, email: &str, base: String) -> (TestClient, Uuid) {
    let (client, user) = signed_in(auth, email).await;
    let id = user["id"]
        .as_str()
        .and_then(|s| Uuid::parse_str(s).ok())
        .expect("a user id");
    (client.pointed_at(base), id)
}

/// Registers `first last` with `email` on the auth service at `auth_url`; `client` keeps the
/// cookie and its own base URL (the service under test). The new user.
pub async fn register_at(
    client: &TestClient,
    auth_url: &str,
    email: &str,
    (first, last): (&str, &str),
) -> Value {
    let res = client
        .send(
            client
                .http
                .post(format!("{auth_url}/api/auth/register"))
                .json(&json!({"email": email, "password": PASSWORD, "firstName": first, "lastName": last})),
        )
        .await;
    assert_eq!(res.status, 201, "registration failed: {}", res.text);
    res.json()["user"].clone()
}

/// Signs `client` in as the admin on the auth service at `auth_url`; the client keeps the cookie
/// and its own base URL (the service under test).
pub async fn sign_in_as_admin(client: &TestClient, auth_url: &str) {
    let res = client
        .send(
            client
                .http
                .post(format!("{auth_url}/api/auth/login"))
                .json(&json!({"email": ADMIN_EMAIL, "password": PASSWORD})),
        )
        .await;
    assert_eq!(res.status, 200, "admin login failed: {}", res.text);
}
