//! The gateway in front of a real auth service.

use gateway::GatewayConfig;
use platform::config::HttpConfig;
use platform::testing::{TestClient, TestServer, free_port};
use serde_json::json;

fn config(auth_url: String) -> GatewayConfig {
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    GatewayConfig {
        http: HttpConfig {
            addr: "127.0.0.1:0".parse().unwrap(),
        },
        auth_url,
        event_url: nowhere.clone(),
        ticket_url: nowhere.clone(),
        payment_url: nowhere.clone(),
        notification_url: nowhere,
        web_dist: "/nonexistent".into(),
    }
}

#[tokio::test]
async fn a_browser_signs_up_and_in_through_the_gateway_with_a_first_party_cookie() {
    let auth = auth_service::testing::spawn().await;
    let gateway = TestServer::spawn(gateway::router(&config(auth.url()))).await;
    let browser = TestClient::new(gateway.url());
    let res = browser
        .post(
            "/api/auth/register",
            &json!({"email": "gw@example.com", "password": "correct-horse", "firstName": "G", "lastName": "W"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert!(res.header("set-cookie").unwrap().contains("HttpOnly"));
    let me = browser.get("/api/auth/me?x=1").await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["user"]["email"], "gw@example.com");
    // Errors from the service pass through unchanged.
    let bad = browser
        .post(
            "/api/auth/login",
            &json!({"email": "gw@example.com", "password": "nope-nope"}),
        )
        .await;
    assert_eq!(
        (bad.status, bad.code().as_str()),
        (401, "invalid_credentials")
    );
}

#[tokio::test]
async fn a_service_that_is_down_is_a_502_in_the_json_error_shape() {
    let gateway = TestServer::spawn(gateway::router(&config(format!(
        "http://127.0.0.1:{}",
        free_port()
    ))))
    .await;
    let res = TestClient::new(gateway.url())
        .get("/api/tickets/orders")
        .await;
    assert_eq!(
        (res.status, res.code().as_str()),
        (502, "upstream_unavailable")
    );
}

#[tokio::test]
async fn unknown_api_routes_are_404_and_the_home_page_lists_the_api() {
    let gateway = TestServer::spawn(gateway::router(&config("http://127.0.0.1:1".into()))).await;
    let client = TestClient::new(gateway.url());
    let res = client.get("/api/nothing").await;
    assert_eq!((res.status, res.code().as_str()), (404, "not_found"));
    let home = client.get("/").await;
    assert_eq!(home.status, 200);
    assert!(home.text.contains("/api/tickets/book"));
}
