//! The auth service over real HTTP.

use std::sync::Arc;
use std::time::Duration;

use auth_service::store::{AuthStore, SqliteStore};
use auth_service::testing::{self, PASSWORD, register, registration};
use platform::testing::{TestClient, TestServer};
use serde_json::json;

/// Ada's sign-up as `email`.
fn body(email: &str) -> serde_json::Value {
    registration(email, PASSWORD)
}

async fn server() -> (TestServer, TestClient) {
    let server = testing::spawn().await;
    let client = TestClient::new(server.url());
    (server, client)
}

fn session_cookie(res: &platform::testing::TestResponse) -> String {
    let set = res.header("set-cookie").expect("a session cookie");
    set.split(';').next().unwrap().to_string()
}

#[tokio::test]
async fn register_me_verify_logout_and_login_round_trip() {
    let (_server, client) = server().await;
    let res = register(&client, "ada@example.com").await;
    let user = &res.json()["user"];
    assert_eq!(user["email"], "ada@example.com");
    assert_eq!(user["firstName"], "Ada");
    assert_eq!(user["role"], "user");
    assert_eq!(user["isActive"], true);

    let me = client.get("/api/auth/me").await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["user"]["id"], user["id"]);

    let verify = client.get("/api/auth/verify").await;
    assert_eq!(verify.status, 200);
    let v = verify.json();
    assert_eq!(v["user"]["id"], user["id"]);
    assert_eq!(v["user"]["lastName"], "Lovelace");
    assert_eq!(v["user"]["role"], "user");

    let out = client.post("/api/auth/logout", &json!({})).await;
    assert_eq!(out.status, 200);
    assert_eq!(client.get("/api/auth/me").await.status, 401);

    let login = testing::log_in(&client, "ADA@example.com", "correct-horse").await;
    assert_eq!(login.status, 200, "{}", login.text);
    assert_eq!(login.json()["user"]["id"], user["id"]);
    assert!(login.json()["user"]["lastLogin"].is_string());
    assert_eq!(client.get("/api/auth/me").await.status, 200);
}

#[tokio::test]
async fn the_session_cookie_is_http_only_same_site_lax_on_the_root_path() {
    let (_server, client) = server().await;
    let res = register(&client, "cookie@example.com").await;
    let set = res.header("set-cookie").unwrap();
    assert!(set.starts_with("sid="));
    assert!(set.contains("HttpOnly"));
    assert!(set.contains("SameSite=Lax"));
    assert!(set.contains("Path=/"));
    assert!(!set.contains("Secure"));
    let token = session_cookie(&res).trim_start_matches("sid=").to_string();
    assert_eq!(token.len(), 64, "256 bits as hex");
}

#[tokio::test]
async fn the_cookie_is_secure_when_configured() {
    let server = testing::spawn_with(auth_service::AuthConfig {
        cookie_secure: true,
        ..testing::config()
    })
    .await;
    let client = TestClient::new(server.url());
    let res = client
        .post("/api/auth/register", &body("secure@example.com"))
        .await;
    assert!(res.header("set-cookie").unwrap().contains("; Secure"));
}

#[tokio::test]
async fn a_new_login_rejects_the_session_id_it_replaced() {
    let (server, client) = server().await;
    let first = session_cookie(&register(&client, "rotate@example.com").await);
    let login = testing::log_in(&client, "rotate@example.com", "correct-horse").await;
    let second = session_cookie(&login);
    assert_ne!(first, second);

    let raw = reqwest::Client::new();
    let url = format!("{}/api/auth/me", server.url());
    let old = raw.get(&url).header("cookie", &first).send().await.unwrap();
    assert_eq!(old.status(), 401);
    let new = raw
        .get(&url)
        .header("cookie", &second)
        .send()
        .await
        .unwrap();
    assert_eq!(new.status(), 200);
}

#[tokio::test]
async fn after_logout_the_old_cookie_is_rejected_by_the_server() {
    let (server, client) = server().await;
    let cookie = session_cookie(&register(&client, "bye@example.com").await);
    let out = client.post("/api/auth/logout", &json!({})).await;
    assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"));

    let raw = reqwest::Client::new();
    for path in ["/api/auth/me", "/api/auth/verify"] {
        let res = raw
            .get(format!("{}{path}", server.url()))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "{path}");
    }
    // Logging out again is harmless.
    assert_eq!(
        client.post("/api/auth/logout", &json!({})).await.status,
        200
    );
}

#[tokio::test]
async fn a_duplicate_email_in_another_case_is_a_conflict() {
    let (_server, client) = server().await;
    register(&client, "dup@example.com").await;
    let res = TestClient::new(client.base.clone())
        .post("/api/auth/register", &body("  DUP@Example.com "))
        .await;
    assert_eq!(res.status, 409);
    assert_eq!(res.code(), "email_taken");
}

#[tokio::test]
async fn each_validation_rule_rejects_with_its_field_named() {
    let (_server, client) = server().await;
    let long_name = "x".repeat(101);
    let cases = [
        (
            json!({"email": "nope", "password": "correct-horse", "firstName": "A", "lastName": "B"}),
            "email",
        ),
        (
            json!({"password": "correct-horse", "firstName": "A", "lastName": "B"}),
            "email",
        ),
        (
            json!({"email": "a@example.com", "password": "short", "firstName": "A", "lastName": "B"}),
            "password",
        ),
        (
            json!({"email": "a@example.com", "password": "y".repeat(73), "firstName": "A", "lastName": "B"}),
            "password",
        ),
        (
            json!({"email": "a@example.com", "password": "correct-horse", "firstName": " ", "lastName": "B"}),
            "firstName",
        ),
        (
            json!({"email": "a@example.com", "password": "correct-horse", "firstName": "A", "lastName": long_name}),
            "lastName",
        ),
    ];
    for (payload, field) in cases {
        let res = client.post("/api/auth/register", &payload).await;
        assert_eq!(res.status, 422, "{payload}: {}", res.text);
        assert_eq!(res.code(), "validation_failed");
        let fields = &res.json()["error"]["fields"];
        assert!(
            fields[field].is_array(),
            "{field} not named in {}",
            res.text
        );
    }
    let too_long = client
        .post("/api/auth/register", &json!({"email": "a@example.com", "password": "y".repeat(73), "firstName": "A", "lastName": "B"}))
        .await;
    assert!(too_long.text.contains("72 bytes"));
    let login = client.post("/api/auth/login", &json!({"email": ""})).await;
    assert_eq!(login.status, 422);
    assert!(login.json()["error"]["fields"]["password"].is_array());
}

#[tokio::test]
async fn malformed_json_wrong_content_type_and_oversize_bodies_get_their_codes() {
    let (_server, client) = server().await;
    // A raw body of `content_type` to the sign-up route.
    let register_raw = |content_type: &'static str, body: String| {
        client.request(reqwest::Method::POST, "/api/auth/register", move |r| {
            r.header("content-type", content_type).body(body)
        })
    };
    let malformed = register_raw("application/json", "{\"email\":".into()).await;
    assert_eq!(
        (malformed.status, malformed.code().as_str()),
        (400, "malformed_json")
    );

    // Not text/plain: a form's content type without an Origin is refused first
    // (platform::csrf).
    let wrong_type = register_raw("application/xml", "{}".into()).await;
    assert_eq!(
        (wrong_type.status, wrong_type.code().as_str()),
        (415, "unsupported_media_type")
    );

    let huge = format!("{{\"email\": \"{}\"}}", "a".repeat(70 * 1024));
    let oversize = register_raw("application/json", huge).await;
    assert_eq!(
        (oversize.status, oversize.code().as_str()),
        (413, "payload_too_large")
    );

    let wrong_shape = client
        .post("/api/auth/register", &json!({"email": 5}))
        .await;
    assert_eq!(
        (wrong_shape.status, wrong_shape.code().as_str()),
        (422, "invalid_body")
    );

    let unknown = client.get("/api/auth/nothing-here").await;
    assert_eq!(
        (unknown.status, unknown.code().as_str()),
        (404, "not_found")
    );
    let method = client.get("/api/auth/login").await;
    assert_eq!(
        (method.status, method.code().as_str()),
        (405, "method_not_allowed")
    );
}

#[tokio::test]
async fn twenty_concurrent_registrations_of_one_email_create_exactly_one_account() {
    let (server, _client) = server().await;
    let attempts = (0..20)
        .map(|_| {
            let client = TestClient::new(server.url());
            tokio::spawn(async move {
                client
                    .post("/api/auth/register", &body("race@example.com"))
                    .await
            })
        })
        .collect::<Vec<_>>();
    let mut statuses = Vec::new();
    for a in attempts {
        statuses.push(a.await.unwrap().status);
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        19,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn no_response_ever_contains_the_password_hash() {
    let (_server, client) = server().await;
    let mut bodies = vec![register(&client, "hash@example.com").await.text];
    bodies.push(client.get("/api/auth/me").await.text);
    bodies.push(client.get("/api/auth/verify").await.text);
    bodies.push(
        testing::log_in(&client, "hash@example.com", "correct-horse")
            .await
            .text,
    );
    for b in bodies {
        assert!(
            !b.contains("$2b$") && !b.contains("$2y$"),
            "hash leaked: {b}"
        );
        assert!(!b.contains("password"), "password field leaked: {b}");
    }
}

#[tokio::test]
async fn an_unknown_email_and_a_wrong_password_get_the_same_answer() {
    let (_server, client) = server().await;
    register(&client, "known@example.com").await;
    let wrong = testing::log_in(&client, "known@example.com", "wrong-horse").await;
    let unknown = testing::log_in(&client, "ghost@example.com", "wrong-horse").await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.text, unknown.text);
    assert_eq!(wrong.code(), "invalid_credentials");
}

#[tokio::test]
async fn a_disabled_account_cannot_sign_in_and_loses_its_sessions() {
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    let server = testing::spawn_with_store(testing::config(), store.clone()).await;
    let client = TestClient::new(server.url());
    let user = register(&client, "off@example.com").await.json()["user"].clone();
    let id = user["id"].as_str().unwrap().parse().unwrap();
    store
        .set_active(id, false, chrono::Utc::now())
        .await
        .unwrap();

    assert_eq!(client.get("/api/auth/verify").await.status, 401);
    let login = testing::log_in(&client, "off@example.com", "correct-horse").await;
    assert_eq!(
        (login.status, login.code().as_str()),
        (403, "account_disabled")
    );
}

#[tokio::test]
async fn an_idle_session_expires() {
    let server = testing::spawn_with(auth_service::AuthConfig {
        session_idle: Duration::from_secs(1),
        ..testing::config()
    })
    .await;
    let client = TestClient::new(server.url());
    register(&client, "idle@example.com").await;
    assert_eq!(client.get("/api/auth/me").await.status, 200);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(client.get("/api/auth/me").await.status, 401);
}

#[tokio::test]
async fn an_active_session_outlives_a_short_idle_timeout() {
    let idle = Duration::from_secs(2);
    let server = testing::spawn_with(auth_service::AuthConfig {
        session_idle: idle,
        ..testing::config()
    })
    .await;
    let client = TestClient::new(server.url());
    register(&client, "active@example.com").await;
    // Requests every 0.4 s for twice the idle timeout keep it alive.
    let until = tokio::time::Instant::now() + idle * 2;
    while tokio::time::Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(client.get("/api/auth/me").await.status, 200);
    }
    tokio::time::sleep(idle + Duration::from_millis(300)).await;
    assert_eq!(client.get("/api/auth/me").await.status, 401);
}

#[tokio::test]
async fn the_configured_admin_is_bootstrapped_at_start_up() {
    let server = testing::spawn_with(auth_service::AuthConfig {
        admin: Some(auth_service::config::AdminBootstrap {
            email: "Root@Example.com".into(),
            password: "admin-password".into(),
        }),
        ..testing::config()
    })
    .await;
    let client = TestClient::new(server.url());
    let login = testing::log_in(&client, "root@example.com", "admin-password").await;
    assert_eq!(login.status, 200, "{}", login.text);
    assert_eq!(
        client.get("/api/auth/verify").await.json()["user"]["role"],
        "admin"
    );
}

#[tokio::test]
async fn health_answers_and_every_response_carries_a_request_id() {
    let (_server, client) = server().await;
    let health = client.get("/health").await;
    assert_eq!(health.status, 200);
    assert!(health.header("x-request-id").is_some());
    let ready = client.get("/ready").await;
    assert_eq!(ready.status, 200);
    assert_eq!(ready.json()["checks"]["store"]["status"], "ok");

    let res = client
        .request(reqwest::Method::GET, "/health", |r| {
            r.header("x-request-id", "abc-123")
        })
        .await;
    assert_eq!(res.header("x-request-id"), Some("abc-123"));
}
