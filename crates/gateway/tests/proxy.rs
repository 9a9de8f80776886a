//! The gateway in front of a real auth service.

use std::time::{Duration, Instant};

use gateway::GatewayConfig;
use platform::config::HttpConfig;
use platform::testing::{TestClient, TestServer, free_port};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

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
        upstream_timeout: Duration::from_secs(10),
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
    let bad = auth_service::testing::log_in(&browser, "gw@example.com", "nope-nope").await;
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

#[tokio::test]
async fn dot_segments_are_refused_before_routing() {
    let auth = auth_service::testing::spawn().await;
    let gateway = TestServer::spawn(gateway::router(&config(auth.url()))).await;
    // reqwest would resolve the dots itself: send the raw request line.
    for path in [
        "/api/auth/../../ready",
        "/api/auth/%2e%2e/%2e%2e/ready",
        "/api/auth/..%5cready",
    ] {
        let answer = raw_exchange(
            gateway.addr,
            &format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n"),
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 400"), "{path}: {answer}");
        assert!(
            answer.contains(r#""code":"invalid_path""#),
            "{path}: {answer}"
        );
    }
    // Repeated slashes are collapsed, the request reaches its route.
    let res = TestClient::new(gateway.url()).get("//api//auth/me").await;
    assert_eq!((res.status, res.code().as_str()), (401, "unauthorized"));
}

/// Sends one request and reads one answer (head and a Content-Length body).
async fn raw_exchange(addr: std::net::SocketAddr, request: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    read_answer(&mut stream).await
}

async fn read_answer(stream: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&got).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap())
                })
                .unwrap_or(0);
            if got.len() >= end + 4 + length {
                return text;
            }
        }
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .expect("an answer within 10 s")
            .unwrap();
        assert!(n > 0, "connection closed mid-answer: {text}");
        got.extend_from_slice(&buf[..n]);
    }
}

#[tokio::test]
async fn a_frozen_service_is_a_503_after_the_upstream_timeout() {
    // Accepts connections and never answers.
    let frozen = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let frozen_url = format!("http://{}", frozen.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((s, _)) = frozen.accept().await {
            open.push(s);
        }
    });
    let timeout = Duration::from_millis(500);
    let gateway = TestServer::spawn(gateway::router(&GatewayConfig {
        ticket_url: frozen_url,
        upstream_timeout: timeout,
        ..config("http://127.0.0.1:1".into())
    }))
    .await;
    let started = Instant::now();
    let res = TestClient::new(gateway.url())
        .get("/api/tickets/orders")
        .await;
    let elapsed = started.elapsed();
    println!("frozen upstream answered 503 after {elapsed:?} (timeout {timeout:?})");
    assert_eq!((res.status, res.code().as_str()), (503, "upstream_timeout"));
    assert!(elapsed < timeout * 4, "{elapsed:?}");
    held.abort();
}

#[tokio::test]
async fn after_a_502_a_kept_alive_connection_is_closed_with_notice_or_still_serves() {
    let auth = auth_service::testing::spawn().await;
    // The ticket service is down; the auth service is up.
    let gateway = TestServer::spawn(gateway::router(&config(auth.url()))).await;
    let mut stream = TcpStream::connect(gateway.addr).await.unwrap();
    let body = r#"{"eventId":"x","tickets":[]}"#;
    let request = format!(
        "POST /api/tickets/book HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let first = read_answer(&mut stream).await;
    assert!(first.starts_with("HTTP/1.1 502"), "{first}");
    let announced_close = first
        .to_ascii_lowercase()
        .contains("\r\nconnection: close\r\n");
    let second = "GET /api/auth/me HTTP/1.1\r\nHost: x\r\n\r\n";
    if announced_close {
        // The client was told: the connection ends after the answer, and nothing else arrives.
        let mut rest = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest)).await;
        assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest));
    } else {
        stream
            .write_all(second.as_bytes())
            .await
            .expect("the connection is still usable");
        let answer = read_answer(&mut stream).await;
        assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    }
}

#[tokio::test]
async fn every_answer_carries_the_security_headers_and_api_answers_are_not_stored() {
    let auth = auth_service::testing::spawn().await;
    let gateway = TestServer::spawn(gateway::router(&config(auth.url()))).await;
    let client = TestClient::new(gateway.url());
    for path in ["/", "/api/auth/me", "/api/nothing"] {
        let res = client.get(path).await;
        let csp = res.header("content-security-policy").unwrap_or_default();
        assert!(
            csp.contains("script-src 'self' 'wasm-unsafe-eval'"),
            "{path}: {csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(
            res.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(res.header("x-frame-options"), Some("DENY"), "{path}");
        assert!(res.header("referrer-policy").is_some(), "{path}");
    }
    let me = client.get("/api/auth/me").await;
    assert_eq!(me.header("cache-control"), Some("no-store"));
    assert_eq!(client.get("/").await.header("cache-control"), None);
}

#[tokio::test]
async fn the_gateway_appends_the_client_address_and_forwards_the_browser_s_host() {
    // An upstream that answers with the headers it was given.
    let echo = axum::Router::new().route(
        "/api/events",
        axum::routing::get(|headers: axum::http::HeaderMap| async move {
            let header = |name: &str| {
                headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string()
            };
            axum::Json(json!({
                "forwardedFor": header("x-forwarded-for"),
                "forwardedHost": header("x-forwarded-host"),
            }))
        }),
    );
    let upstream = TestServer::spawn(echo).await;
    let gateway = TestServer::spawn(gateway::router(&GatewayConfig {
        event_url: upstream.url(),
        ..config("http://127.0.0.1:1".into())
    }))
    .await;
    let client = TestClient::new(gateway.url());
    let res = client
        .request(reqwest::Method::GET, "/api/events", |r| {
            r.header("x-forwarded-for", "203.0.113.5")
                .header("x-forwarded-host", "evil.example")
        })
        .await;
    let seen = res.json();
    // The last entry is the peer the gateway saw: the one the services count attempts under.
    assert_eq!(seen["forwardedFor"], "203.0.113.5, 127.0.0.1");
    assert_eq!(seen["forwardedHost"], gateway.addr.to_string());
}
