//! `ticket_checkins_total` over the real router and `GET /metrics`: a scan is counted once, by
//! the door's decision, however often its nonce is uploaded again. Its own test binary: the
//! counters are the process's, so no other test's scans may move them.

mod support;

use platform::testing::TestClient;
use serde_json::{Value, json};
use support::World;

/// `ticket_checkins_total{result}` as the service's `/metrics` shows it (absent is 0).
async fn checkins(world: &World, result: &str) -> u64 {
    let res = TestClient::new(world.tickets.url()).get("/metrics").await;
    assert_eq!(res.status, 200, "{}", res.text);
    let label = format!("result=\"{result}\"");
    res.text
        .lines()
        .filter(|l| l.starts_with("ticket_checkins_total{") && l.contains(&label))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum()
}

async fn scan(client: &TestClient, body: &Value) -> Value {
    let res = client.post("/api/tickets/checkin", body).await;
    assert_eq!(res.status, 200, "{}", res.text);
    res.json()
}

#[tokio::test]
async fn a_replayed_nonce_gets_the_first_answer_again_and_the_scan_is_counted_once() {
    assert!(platform::metrics::install(), "metrics are on by default");
    let world = World::start().await;
    let refunds = json!({"allowed": true, "untilHoursBefore": 0});
    let (organizer, event) = world.organizer_with_event(refunds, 10).await;
    let buyer = world.buyer().await;
    let (order, _) = world.paid_order(&buyer, event, 1).await;
    let code = order["issuedTickets"][0]["code"].as_str().unwrap();
    assert_eq!(checkins(&world, "ok").await, 0);

    // One scan, then its offline queue uploaded three more times.
    let body = json!({"eventId": event, "code": code, "nonce": "queue-1", "gate": "North"});
    let first = scan(&organizer, &body).await;
    assert_eq!(first["result"], "ok");
    for _ in 0..3 {
        assert_eq!(scan(&organizer, &body).await, first);
    }
    assert_eq!(checkins(&world, "ok").await, 1);
    assert_eq!(checkins(&world, "already_checked_in").await, 0);

    // A new scan of the ticket is a new decision, counted once too.
    let body = json!({"eventId": event, "code": code, "nonce": "queue-2", "gate": "South"});
    for _ in 0..2 {
        assert_eq!(
            scan(&organizer, &body).await["result"],
            "already_checked_in"
        );
    }
    assert_eq!(checkins(&world, "already_checked_in").await, 1);
    assert_eq!(checkins(&world, "ok").await, 1);
}
