//! Nothing is lost between a database commit and the broker: the outbox relay resumes after a
//! restart, and the service rides out a NATS restart.

mod support;

use std::time::Duration;

use platform::testing::{stream_events, wait_for_events};
use support::{World, book};

#[tokio::test]
async fn an_order_committed_while_no_relay_runs_reaches_the_stream_exactly_once_after_restart() {
    let mut world = World::start_with(|c| c, false).await;
    let (_, _, order) = world.pending_order(&[("GA", 1000, 5)], &[("GA", 1)]).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        stream_events(&world.js, "ORDERS").await.is_empty(),
        "nothing published without a relay"
    );

    // The "restarted" process: a relay over the same database.
    world.tickets.background = Some(world.tickets.app.spawn_background());
    let events = wait_for_events(&world.js, "ORDERS", |e| !e.is_empty()).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].envelope["subject"], order["orderId"]);

    // A second relay (as after another restart) publishes nothing again.
    world.tickets.stop_background().await;
    world.tickets.background = Some(world.tickets.app.spawn_background());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(stream_events(&world.js, "ORDERS").await.len(), 1);
}

#[tokio::test]
async fn orders_booked_while_nats_is_down_are_delivered_when_it_is_back() {
    let mut world = World::start().await;
    let event = world.event(&[("GA", 1000, 5)]);
    let buyer = world.buyer().await;
    book(&buyer, event, &[("GA", 1)]).await;
    wait_for_events(&world.js, "ORDERS", |e| e.len() == 1).await;

    world.nats.stop();
    let res = book(&buyer, event, &[("GA", 1)]).await;
    assert_eq!(
        res.status, 201,
        "booking does not need the broker: {}",
        res.text
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    world.nats.restart();

    let events = wait_for_events(&world.js, "ORDERS", |e| e.len() == 2).await;
    assert_eq!(events[1].envelope["subject"], res.json()["orderId"]);
    assert_eq!(world.seats(event, "GA").await, (0, 2, 3));
}
