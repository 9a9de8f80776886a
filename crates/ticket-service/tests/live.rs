//! Live availability over server-sent events follows bookings as they happen.

mod support;

use support::{SseReader, World, assert_event_stream, book, cancel, id};

#[tokio::test]
async fn the_availability_stream_sends_the_stock_then_every_change() {
    let world = World::start().await;
    let event = world.event(&[("GA", 1000, 10)]);
    let res = reqwest::get(format!(
        "{}/api/tickets/events/{event}/availability/stream",
        world.tickets.url()
    ))
    .await
    .unwrap();
    assert_event_stream(&res);
    let mut sse = SseReader::of(res);
    assert_eq!(sse.next().await["ticketTypes"][0]["available"], 10);

    let buyer = world.buyer().await;
    let order = book(&buyer, event, &[("GA", 3)]).await.json();
    assert_eq!(sse.next().await["ticketTypes"][0]["available"], 7);

    cancel(&buyer, &id(&order)).await;
    assert_eq!(sse.next().await["ticketTypes"][0]["available"], 10);
}

#[tokio::test]
async fn the_stream_of_an_unknown_event_is_a_404() {
    let world = World::start().await;
    let res = platform::testing::TestClient::new(world.tickets.url())
        .get(&format!(
            "/api/tickets/events/{}/availability/stream",
            uuid::Uuid::new_v4()
        ))
        .await;
    assert_eq!((res.status, res.code().as_str()), (404, "event_not_found"));
}
