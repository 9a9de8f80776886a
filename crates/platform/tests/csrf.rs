//! Every service refuses state-changing requests from other sites, over real HTTP.

use axum::Router;
use axum::routing::post;
use platform::health::Readiness;
use platform::testing::{TestClient, TestResponse, TestServer};

async fn server() -> (TestServer, TestClient) {
    let routes = Router::new().route("/api/orders/{id}/cancel", post(|| async { "cancelled" }));
    let server = TestServer::spawn(platform::http::finish(routes, Readiness::new("test"))).await;
    let client = TestClient::new(server.url());
    (server, client)
}

async fn cancel(client: &TestClient, headers: &[(&str, &str)]) -> TestResponse {
    let mut req = client.http.post(client.url("/api/orders/1/cancel"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    client.send(req).await
}

#[tokio::test]
async fn a_body_less_form_post_from_a_foreign_origin_is_refused() {
    let (_server, client) = server().await;
    for headers in [
        vec![
            ("origin", "https://evil.example"),
            ("content-type", "application/x-www-form-urlencoded"),
        ],
        vec![("origin", "https://evil.example")],
        vec![
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://evil.example"),
            ("content-type", "text/plain"),
        ],
        // An old browser that sends neither header still sends its form's content type.
        vec![("content-type", "application/x-www-form-urlencoded")],
    ] {
        let res = cancel(&client, &headers).await;
        assert_eq!(res.status, 403, "{headers:?}: {}", res.text);
        assert_eq!(res.code(), "cross_site_request");
    }
}

#[tokio::test]
async fn same_origin_browsers_json_and_service_clients_pass() {
    let (server, client) = server().await;
    let own_origin = server.url();
    for headers in [
        vec![
            ("sec-fetch-site", "same-origin"),
            ("origin", own_origin.as_str()),
        ],
        vec![("origin", own_origin.as_str())],
        vec![("content-type", "application/json")],
        vec![],
    ] {
        let res = cancel(&client, &headers).await;
        assert_eq!(res.status, 200, "{headers:?}: {}", res.text);
    }
}
