//! Guessing passwords and mass sign-ups are throttled, over real HTTP.

use std::time::Duration;

use auth_service::AuthConfig;
use auth_service::testing::{self, PASSWORD, register, registration};
use auth_service::throttle::Limit;
use platform::testing::{TestClient, TestResponse, TestServer};
use serde_json::json;

async fn login_from(
    client: &TestClient,
    address: &str,
    email: &str,
    password: &str,
) -> TestResponse {
    client
        .request(reqwest::Method::POST, "/api/auth/login", |r| {
            r.header("x-forwarded-for", address)
                .json(&json!({"email": email, "password": password}))
        })
        .await
}

async fn register_from(client: &TestClient, address: &str, email: &str) -> TestResponse {
    let body = registration(email, PASSWORD);
    client
        .request(reqwest::Method::POST, "/api/auth/register", |r| {
            r.header("x-forwarded-for", address).json(&body)
        })
        .await
}

/// `max` attempts in a window of `seconds`.
fn limit(max: u32, seconds: u64) -> Limit {
    Limit {
        max,
        window: Duration::from_secs(seconds),
    }
}

/// The auth service with the test settings as `tune` changes them, and a browser pointed at it.
async fn serve(tune: impl FnOnce(&mut AuthConfig)) -> (TestServer, TestClient) {
    let mut config = testing::config();
    tune(&mut config);
    let server = testing::spawn_with(config).await;
    let client = TestClient::new(server.url());
    (server, client)
}

fn retry_after(res: &TestResponse) -> u64 {
    res.header("retry-after")
        .expect("a Retry-After header")
        .parse()
        .expect("Retry-After in seconds")
}

#[tokio::test]
async fn an_account_locked_by_wrong_passwords_lets_the_honest_user_in_after_the_window() {
    let (server, client) = serve(|c| c.login_per_account = limit(3, 2)).await;
    register(&client, "ada@example.com").await;

    for _ in 0..3 {
        let res = login_from(&client, "203.0.113.1", "ada@example.com", "wrong-horse").await;
        assert_eq!(res.status, 401, "{}", res.text);
    }
    // Locked for everyone, even with the right password and from another address.
    for address in ["203.0.113.1", "198.51.100.2"] {
        let res = login_from(&client, address, "ADA@example.com", PASSWORD).await;
        assert_eq!(res.status, 429, "{}", res.text);
        assert_eq!(res.code(), "too_many_attempts");
        assert!((1..=2).contains(&retry_after(&res)), "{:?}", res.headers);
    }
    // Another account is not affected.
    register(&TestClient::new(server.url()), "bob@example.com").await;
    let res = login_from(&client, "203.0.113.1", "bob@example.com", PASSWORD).await;
    assert_eq!(res.status, 200, "{}", res.text);

    let wait = retry_after(&login_from(&client, "203.0.113.1", "ada@example.com", PASSWORD).await);
    tokio::time::sleep(Duration::from_secs(wait)).await;
    let res = login_from(&client, "203.0.113.1", "ada@example.com", PASSWORD).await;
    assert_eq!(res.status, 200, "after the window: {}", res.text);
}

#[tokio::test]
async fn failures_from_one_address_across_many_accounts_are_throttled_for_that_address_only() {
    let (_server, client) = serve(|c| c.login_per_address = limit(3, 60)).await;
    register(&client, "ada@example.com").await;
    for i in 0..3 {
        let email = format!("guess{i}@example.com");
        let res = login_from(&client, "203.0.113.7", &email, "wrong-horse").await;
        assert_eq!(res.status, 401, "{}", res.text);
    }
    let res = login_from(&client, "203.0.113.7", "ada@example.com", PASSWORD).await;
    assert_eq!(res.status, 429, "{}", res.text);
    assert!((59..=60).contains(&retry_after(&res)));

    let res = login_from(&client, "203.0.113.8", "ada@example.com", PASSWORD).await;
    assert_eq!(res.status, 200, "another address: {}", res.text);
}

#[tokio::test]
async fn sign_ups_from_one_address_are_throttled() {
    let (_server, client) = serve(|c| c.registrations_per_address = limit(2, 3600)).await;
    for i in 0..2 {
        let res = register_from(&client, "203.0.113.9", &format!("u{i}@example.com")).await;
        assert_eq!(res.status, 201, "{}", res.text);
    }
    let res = register_from(&client, "203.0.113.9", "u2@example.com").await;
    assert_eq!(res.status, 429, "{}", res.text);
    assert_eq!(res.code(), "too_many_attempts");
    assert!(retry_after(&res) > 3500);

    let res = register_from(&client, "203.0.113.10", "u2@example.com").await;
    assert_eq!(res.status, 201, "another address: {}", res.text);
}

#[tokio::test]
async fn a_password_of_two_emoji_or_a_common_one_is_refused() {
    let server = testing::spawn().await;
    let client = TestClient::new(server.url());
    for (email, password, message) in [
        ("emoji@example.com", "😀😀", "at least 8 characters"),
        ("common@example.com", "Password1", "too common"),
    ] {
        let res = client
            .post("/api/auth/register", &registration(email, password))
            .await;
        assert_eq!(res.status, 422, "{}", res.text);
        let messages = res.json()["error"]["fields"]["password"].to_string();
        assert!(messages.contains(message), "{messages}");
    }
}
