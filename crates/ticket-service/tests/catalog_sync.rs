//! Inventory follows the catalogue stream: more seats appear, a cancelled event cancels its
//! pending orders.

mod support;

use chrono::Utc;
use contracts::catalog::{
    EventCancelled, EventDetails, EventUpdated, Price, TicketTypeInfo, VenueInfo,
};
use contracts::subjects;
use platform::testing::{eventually, wait_for_events};
use support::{World, book, id};
use uuid::Uuid;

fn details(types: &[(&str, i64, u32)]) -> EventDetails {
    EventDetails {
        title: "Updated".into(),
        category: "Music".into(),
        venue: VenueInfo {
            name: "Hall".into(),
            city: "Lisbon".into(),
            capacity: 1000,
        },
        date_time: Utc::now() + chrono::Duration::days(30),
        duration: 120,
        ticket_types: types
            .iter()
            .map(|(name, minor, quantity)| TicketTypeInfo {
                name: name.to_string(),
                price: Price {
                    minor_units: *minor,
                    decimal: format!("{}.{:02}", minor / 100, minor % 100),
                    currency: "USD".into(),
                },
                quantity: *quantity,
            })
            .collect(),
        created_by: Uuid::new_v4(),
        refund_policy: Default::default(),
        sale: Default::default(),
        waitlist_enabled: true,
    }
}

#[tokio::test]
async fn an_updated_event_adds_ticket_types_and_raises_capacity_but_never_lowers_it() {
    let world = World::start().await;
    let event = world.event(&[("GA", 1000, 5)]);
    let buyer = world.buyer().await;
    book(&buyer, event, &[("GA", 2)]).await;

    let update = EventUpdated {
        event_id: event,
        version: 2,
        details: details(&[("GA", 1000, 8), ("VIP", 3000, 4)]),
    };
    world
        .publish(subjects::CATALOG_EVENT_UPDATED, event, update)
        .await;
    eventually("the new capacity", || async {
        (world.seats(event, "GA").await == (0, 2, 6)).then_some(())
    })
    .await;
    assert_eq!(world.seats(event, "VIP").await, (0, 0, 4));

    // An out-of-date fact (lower version) changes nothing.
    let stale = EventUpdated {
        event_id: event,
        version: 1,
        details: details(&[("GA", 1000, 3)]),
    };
    world
        .publish(subjects::CATALOG_EVENT_UPDATED, event, stale)
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(world.seats(event, "GA").await, (0, 2, 6));
    assert_eq!(book(&buyer, event, &[("VIP", 4)]).await.status, 201);
}

#[tokio::test]
async fn a_cancelled_event_cancels_its_pending_orders_and_stops_sales() {
    let world = World::start().await;
    let (event, buyer, first) = world.pending_order(&[("GA", 1000, 10)], &[("GA", 2)]).await;
    let a = id(&first);
    let b = id(&book(&buyer, event, &[("GA", 3)]).await.json());

    let cancel = EventCancelled {
        event_id: event,
        version: 2,
        title: "Gone".into(),
        date_time: Utc::now() + chrono::Duration::days(30),
        cancelled_at: Utc::now(),
    };
    world
        .publish(subjects::CATALOG_EVENT_CANCELLED, event, cancel)
        .await;
    for id in [&a, &b] {
        let o = world.order_becomes(&buyer, id, "cancelled").await;
        assert_eq!(o["cancelReason"], "event_cancelled");
    }
    assert_eq!(world.seats(event, "GA").await, (0, 0, 10));
    let res = book(&buyer, event, &[("GA", 1)]).await;
    assert_eq!(
        (res.status, res.code().as_str()),
        (409, "event_not_bookable")
    );
    let events = wait_for_events(&world.js, "ORDERS", |e| {
        e.iter().filter(|e| e.subject == "orders.cancelled").count() == 2
    })
    .await;
    assert!(
        events
            .iter()
            .filter(|e| e.subject == "orders.cancelled")
            .all(|e| e.envelope["data"]["reason"] == "event_cancelled")
    );
}
