//! The defences of the whole system, as a browser or an attacker meets them through the gateway.

use e2e::{System, book, order_of};
use platform::testing::{TestClient, TestResponse};

/// A body-less POST a foreign page's form would send, with the victim's cookies.
async fn forged_post(victim: &TestClient, path: &str) -> TestResponse {
    victim
        .request(reqwest::Method::POST, path, |r| {
            r.header("origin", "https://evil.example")
                .header("content-type", "application/x-www-form-urlencoded")
        })
        .await
}

#[tokio::test]
async fn forged_cross_site_posts_are_refused_and_the_same_requests_from_the_site_succeed() {
    let system = System::start().await;
    let (organizer, event) = system.organizer_with_event(&[("General", 10.0, 5)]).await;
    let buyer = system.sign_up("Bea").await;
    let order_id = book(&buyer, event, 1).await["order"]["id"]
        .as_str()
        .expect("order id")
        .to_string();

    let cancel = format!("/api/tickets/orders/{order_id}/cancel");
    let res = forged_post(&buyer, &cancel).await;
    assert_eq!(res.status, 403, "{}", res.text);
    assert_eq!(res.code(), "cross_site_request");
    let publish = format!("/api/events/{event}/publish");
    let res = forged_post(&organizer, &publish).await;
    assert_eq!(res.status, 403, "{}", res.text);
    assert_eq!(res.code(), "cross_site_request");
    assert_eq!(order_of(&buyer, &order_id).await["status"], "pending");

    // The web app's own request: same origin. The ticket service behind the gateway compares the
    // Origin with the host the browser used, which the gateway forwards.
    let own = system.gateway.url();
    let res = buyer
        .request(reqwest::Method::POST, &cancel, |r| {
            r.header("origin", own.as_str())
        })
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.json()["order"]["status"], "cancelled");
}
