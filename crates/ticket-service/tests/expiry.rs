//! Holds that expire: the order is cancelled, its seats come back, exactly once.

mod support;

use std::time::Duration;

use platform::testing::wait_for_facts;
use support::{World, book, short_hold};
use ticket_service::expiry::expire_due;

#[tokio::test]
async fn an_unpaid_hold_expires_and_its_seats_are_released() {
    let world = World::start_with(short_hold, true).await;
    let (event, buyer, order) = world.pending_order(&[("GA", 1000, 5)], &[("GA", 3)]).await;
    let id = order["orderId"].as_str().unwrap();
    assert_eq!(world.seats(event, "GA").await, (0, 3, 2));

    let o = world.order_becomes(&buyer, id, "cancelled").await;
    assert_eq!(o["cancelReason"], "expired");
    assert_eq!(world.seats(event, "GA").await, (0, 0, 5));
    let c = &wait_for_facts(&world.js, "ORDERS", "orders.cancelled").await[0];
    assert_eq!(c.envelope["data"]["reason"], "expired");
    assert_eq!(c.envelope["subject"], id);
}

#[tokio::test]
async fn racing_expiry_triggers_release_the_seats_exactly_once() {
    // No background sweeper: the test is the only trigger, fired many times at once.
    let world = World::start_with(short_hold, false).await;
    let event = world.event(&[("GA", 1000, 20)]);
    let buyer = world.buyer().await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(book(&buyer, event, &[("GA", 2)]).await.json()["orderId"].clone());
    }
    assert_eq!(world.seats(event, "GA").await, (0, 10, 10));
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let state = world.tickets.app.state.clone();
    let triggers = (0..8)
        .map(|_| {
            let state = state.clone();
            tokio::spawn(async move { expire_due(&state).await.unwrap() })
        })
        .collect::<Vec<_>>();
    let mut total = 0;
    for t in triggers {
        total += t.await.unwrap();
    }
    assert_eq!(total, 5, "each order expired by exactly one trigger");
    assert_eq!(world.seats(event, "GA").await, (0, 0, 20));
    assert_eq!(expire_due(&state).await.unwrap(), 0);

    let cancelled: Vec<contracts::orders::OrderCancelled> =
        ticket_service::testing::pending_facts(world.tickets.store.as_ref(), "orders.cancelled")
            .await;
    let cancelled = cancelled.len();
    assert_eq!(cancelled, 5, "one orders.cancelled per order");
}

#[tokio::test]
async fn an_order_still_within_its_hold_is_not_expired() {
    let world = World::start_with(|c| c, false).await;
    let event = world.event(&[("GA", 1000, 5)]);
    let buyer = world.buyer().await;
    book(&buyer, event, &[("GA", 1)]).await;
    assert_eq!(expire_due(&world.tickets.app.state).await.unwrap(), 0);
    assert_eq!(world.seats(event, "GA").await, (0, 1, 4));
}
