//! Given an event with a thousand pending and paid orders, when it is cancelled, then every order
//! ends exactly once (`event_cancelled`), every seat comes back, every ticket of a paid order is
//! void and the stream holds one `orders.cancelled` per order; also when the service stops
//! halfway through and starts again.

mod support;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::Utc;
use contracts::catalog::EventCancelled;
use contracts::subjects;
use platform::money::{Currency, Money};
use platform::testing::{eventually, stream_events};
use support::World;
use ticket_service::lifecycle::Command;
use ticket_service::order::{AttemptStatus, Order, OrderLine, OrderStatus, PaymentAttempt};
use ticket_service::store::{
    BookResult, Booking, EventStatus, SqliteStore, TicketStore, Transition,
};
use ticket_service::testing::{TicketHarness, order_details};
use uuid::Uuid;

const ORDERS: usize = 1_000;
const SEATS: u32 = 2_000;

/// `n` orders of one or two seats booked through the store, two in three of them paid.
async fn seed(store: &Arc<dyn TicketStore>, event: Uuid, n: usize) -> Vec<Order> {
    let mut orders = Vec::with_capacity(n);
    for i in 0..n {
        let price = Money::from_minor_units(1000, Currency::USD);
        let line = OrderLine::new("GA".into(), price, 1 + (i % 2) as u32).unwrap();
        let order = ticket_service::order::sample(event, vec![line], platform::time::now());
        let booking = Booking {
            order: order.clone(),
            idempotency: None,
            traceparent: None,
        };
        assert_eq!(store.book(&booking).await.unwrap(), BookResult::Booked);
        if i % 3 != 0 {
            let paid = Command::Confirm(PaymentAttempt {
                payment_id: Uuid::new_v4(),
                status: AttemptStatus::Completed,
                response_code: Some("approved".into()),
                response_message: None,
                at: platform::time::now(),
            });
            let t = store
                .apply(order.id, &paid, Some(Uuid::new_v4()), None)
                .await
                .unwrap();
            assert!(matches!(t, Transition::Applied(_)));
        }
        orders.push(order);
    }
    orders
}

/// An event in the catalogue that the ticket service has learned.
async fn event_with_seats(world: &World) -> Uuid {
    let event = world.event(&[("GA", 1000, SEATS)]);
    assert_eq!(world.seats(event, "GA").await, (0, 0, u64::from(SEATS)));
    event
}

fn cancellation(event: Uuid) -> EventCancelled {
    EventCancelled {
        event_id: event,
        version: 2,
        title: "Called off".into(),
        date_time: Utc::now() + chrono::Duration::days(30),
        cancelled_at: Utc::now(),
    }
}

/// Waits until every order of the event has ended and every fact has left the outbox.
async fn cascade_done(store: &Arc<dyn TicketStore>, event: Uuid) {
    eventually("every order of the cancelled event to end", || async {
        let sales = store.sales_of_event(event).await.unwrap();
        let open = sales
            .iter()
            .filter(|s| matches!(s.status, OrderStatus::Pending | OrderStatus::Confirmed))
            .count();
        (open == 0).then_some(())
    })
    .await;
    eventually("the outbox to be relayed", || async {
        store
            .outbox()
            .pending(1)
            .await
            .unwrap()
            .is_empty()
            .then_some(())
    })
    .await;
}

/// Every order ended once for the event's cancellation, seats and tickets as they must be, and
/// one `orders.cancelled` per order in the stream.
async fn each_order_ended_once(world: &World, store: &Arc<dyn TicketStore>, orders: &[Order]) {
    let event = orders[0].event_id;
    assert_eq!(world.seats(event, "GA").await, (0, 0, u64::from(SEATS)));
    for o in orders {
        let details = order_details(store, o.id).await;
        assert_eq!(details.order.status, OrderStatus::Cancelled);
        assert_eq!(
            details.order.cancel_reason,
            Some(ticket_service::order::CancelReason::EventCancelled)
        );
        let paid = details.order.paid_at.is_some();
        assert_eq!(
            details.tickets.len(),
            if paid { o.seat_count() as usize } else { 0 }
        );
        assert!(details.tickets.iter().all(|t| t.void));
    }
    let mut cancelled: HashMap<String, usize> = HashMap::new();
    for e in stream_events(&world.js, "ORDERS").await {
        if e.subject == subjects::ORDERS_CANCELLED {
            assert_eq!(e.envelope["data"]["reason"], "event_cancelled");
            *cancelled
                .entry(e.envelope["subject"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
    }
    assert_eq!(cancelled.len(), orders.len());
    assert!(
        orders
            .iter()
            .all(|o| cancelled.get(&o.id.to_string()) == Some(&1)),
        "an order was cancelled more than once: {:?}",
        cancelled
            .iter()
            .filter(|(_, n)| **n != 1)
            .collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cancelling_an_event_ends_each_of_its_thousand_orders_once_and_frees_every_seat() {
    let world = World::start().await;
    let store = world.tickets.store.clone();
    let event = event_with_seats(&world).await;
    let orders = seed(&store, event, ORDERS).await;
    let (sold, held, _) = world.seats(event, "GA").await;
    assert!(sold > 0 && held > 0);

    world
        .publish(
            subjects::CATALOG_EVENT_CANCELLED,
            event,
            cancellation(event),
        )
        .await;
    cascade_done(&store, event).await;
    each_order_ended_once(&world, &store, &orders).await;
    assert_eq!(
        store
            .event_stock(event)
            .await
            .unwrap()
            .unwrap()
            .event
            .status,
        EventStatus::Cancelled
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cascade_stopped_halfway_resumes_when_the_service_starts_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ticket.db");
    let first: Arc<dyn TicketStore> = Arc::new(SqliteStore::open(&path).unwrap());
    // The first run: no relay, consumers or sweeps, so the test decides how far it gets.
    let mut world = World::start_on(first.clone(), |c| c, false).await;
    let event = event_with_seats(&world).await;
    let orders = seed(&first, event, ORDERS).await;

    // It took the cancellation in and ended one batch, then stopped before publishing anything.
    let state = world.tickets.app.state.clone();
    let mut cancelled = first.event_stock(event).await.unwrap().unwrap().event;
    cancelled.status = EventStatus::Cancelled;
    cancelled.version = 2;
    assert!(first.apply_event(&cancelled).await.unwrap());
    let (taken, ended) = ticket_service::cascade::run_batch(&state, 200)
        .await
        .unwrap();
    assert_eq!((taken, ended), (200, 200));
    assert_eq!(
        first.orders_to_cascade(ORDERS).await.unwrap().len(),
        ORDERS - 200
    );
    drop(state);
    world.tickets.stop_background().await;
    drop(first);

    // The second run, on the same file, with everything running.
    let again: Arc<dyn TicketStore> = Arc::new(SqliteStore::open(&path).unwrap());
    world.tickets = TicketHarness::start_with_store(world.config(), again.clone(), true).await;
    cascade_done(&again, event).await;
    each_order_ended_once(&world, &again, &orders).await;
}
