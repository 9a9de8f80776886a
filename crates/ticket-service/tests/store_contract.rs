//! One contract for every ticket store adapter: SQLite always, MongoDB when `TEST_MONGODB_URI`
//! names a replica set (transactions need one), each test in a fresh database.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use contracts::subjects;
use platform::money::{Currency, Money};
use ticket_service::lifecycle::{Command, Transition};
use ticket_service::order::{
    AttemptStatus, CancelReason, Order, OrderLine, OrderStatus, PaymentAttempt,
};
use ticket_service::store::{
    BookResult, Booking, EventInfo, EventStatus, IdempotencyRecord, MongoStore, SqliteStore, Stock,
    StoredResponse, TicketStore, TicketTypeInfo,
};
use uuid::Uuid;

const TP: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

fn now() -> DateTime<Utc> {
    // Millisecond precision: what both stores keep.
    platform::time::now()
}

fn event_date() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(1_900_000_000_000).unwrap()
}

fn price(ticket_type: &str) -> Money {
    let minor = match ticket_type {
        "VIP" => 10_000,
        _ => 2_500,
    };
    Money::from_minor_units(minor, Currency::USD)
}

fn event(id: Uuid, version: u64, types: &[(&str, u32)]) -> EventInfo {
    EventInfo {
        id,
        title: "Rust Fest".into(),
        date_time: event_date(),
        status: EventStatus::Published,
        version,
        currency: Currency::USD,
        ticket_types: types
            .iter()
            .map(|&(name, quantity)| TicketTypeInfo {
                name: name.into(),
                price: price(name),
                quantity,
            })
            .collect(),
    }
}

/// A new order as the booking route builds it: pending, held for 15 minutes.
fn order(event_id: Uuid, lines: &[(&str, u32)]) -> Order {
    let lines: Vec<OrderLine> = lines
        .iter()
        .map(|&(ticket_type, quantity)| {
            OrderLine::new(ticket_type.into(), price(ticket_type), quantity).unwrap()
        })
        .collect();
    Order {
        event_date_time: event_date(),
        ..ticket_service::order::sample(event_id, lines, now())
    }
}

fn booking(order: &Order) -> Booking {
    Booking {
        order: order.clone(),
        idempotency: None,
        traceparent: Some(TP.into()),
    }
}

fn attempt(status: &str) -> PaymentAttempt {
    PaymentAttempt {
        payment_id: Uuid::new_v4(),
        status: AttemptStatus::parse(status).unwrap(),
        response_code: Some(
            if status == "failed" {
                "card_declined"
            } else {
                "approved"
            }
            .into(),
        ),
        response_message: Some("test".into()),
        at: now(),
    }
}

/// Runs a command caused by the consumed fact `message`, as the saga does.
async fn run(
    store: &Arc<dyn TicketStore>,
    order_id: Uuid,
    command: Command,
    message: Uuid,
    traceparent: Option<&str>,
) -> Transition {
    store
        .apply(order_id, &command, Some(message), traceparent)
        .await
        .unwrap()
}

/// `payments.completed` for the order.
async fn confirm(
    store: &Arc<dyn TicketStore>,
    order_id: Uuid,
    paid: &PaymentAttempt,
    message: Uuid,
    traceparent: Option<&str>,
) -> Transition {
    let command = Command::Confirm(paid.clone());
    run(store, order_id, command, message, traceparent).await
}

/// `payments.failed`; the order is cancelled at `max_failures`.
fn declined(max_failures: u32) -> Command {
    Command::RecordFailure {
        attempt: attempt("failed"),
        max_failures,
    }
}

fn stock(name: &str, capacity: u32, sold: u32, held: u32) -> Stock {
    Stock {
        ticket_type: name.into(),
        price: price(name),
        capacity,
        sold,
        held,
    }
}

async fn stock_of(store: &Arc<dyn TicketStore>, event_id: Uuid) -> Vec<Stock> {
    store.event_stock(event_id).await.unwrap().unwrap().stock
}

/// A published event with the given ticket types.
async fn published(store: &Arc<dyn TicketStore>, types: &[(&str, u32)]) -> Uuid {
    let id = Uuid::new_v4();
    assert!(store.apply_event(&event(id, 1, types)).await.unwrap());
    id
}

async fn booked(store: &Arc<dyn TicketStore>, order: &Order) {
    assert_eq!(
        store.book(&booking(order)).await.unwrap(),
        BookResult::Booked
    );
}

/// The unpublished outbox as `(subject, order id)` pairs, sorted.
async fn outbox_rows(store: &Arc<dyn TicketStore>) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = store
        .outbox()
        .pending(100)
        .await
        .unwrap()
        .into_iter()
        .map(|m| {
            let envelope: serde_json::Value = serde_json::from_slice(&m.payload).unwrap();
            assert_eq!(envelope["type"], m.subject.as_str());
            (m.subject, envelope["subject"].as_str().unwrap().to_string())
        })
        .collect();
    rows.sort();
    rows
}

fn row(subject: &str, order: &Order) -> (String, String) {
    (subject.to_string(), order.id.to_string())
}

fn sorted(mut rows: Vec<(String, String)>) -> Vec<(String, String)> {
    rows.sort();
    rows
}

async fn applying_an_event_creates_stock_and_a_newer_version_raises_capacity_but_never_lowers_it(
    store: Arc<dyn TicketStore>,
) {
    let id = Uuid::new_v4();
    assert!(store.event_stock(id).await.unwrap().is_none());
    assert!(
        store
            .apply_event(&event(id, 1, &[("General", 10), ("VIP", 5)]))
            .await
            .unwrap()
    );
    let first = store.event_stock(id).await.unwrap().unwrap();
    assert_eq!(first.event, event(id, 1, &[("General", 10), ("VIP", 5)]));
    assert_eq!(
        first.stock,
        [stock("General", 10, 0, 0), stock("VIP", 5, 0, 0)]
    );
    booked(&store, &order(id, &[("General", 2)])).await;

    let mut newer = event(id, 2, &[("General", 20), ("VIP", 3), ("Balcony", 7)]);
    newer.title = "Rust Fest (moved)".into();
    assert!(store.apply_event(&newer).await.unwrap());
    let second = store.event_stock(id).await.unwrap().unwrap();
    assert_eq!(second.event.title, "Rust Fest (moved)");
    assert_eq!(second.event.version, 2);
    assert_eq!(
        second.stock,
        [
            stock("General", 20, 0, 2),
            // Lowering is ignored: holds and sales stay valid.
            stock("VIP", 5, 0, 0),
            stock("Balcony", 7, 0, 0),
        ]
    );
    assert_eq!(
        second
            .event
            .ticket_types
            .iter()
            .map(|t| (t.name.as_str(), t.quantity))
            .collect::<Vec<_>>(),
        [("General", 20), ("VIP", 5), ("Balcony", 7)]
    );

    // An older version, and the same version again, change nothing.
    assert!(
        !store
            .apply_event(&event(id, 1, &[("General", 100)]))
            .await
            .unwrap()
    );
    let mut same = newer.clone();
    same.title = "Replayed".into();
    same.ticket_types[0].quantity = 50;
    assert!(!store.apply_event(&same).await.unwrap());
    let third = store.event_stock(id).await.unwrap().unwrap();
    assert_eq!(third, second);

    // The raised capacity is bookable, and exactly that.
    booked(&store, &order(id, &[("General", 18)])).await;
    assert_eq!(
        store
            .book(&booking(&order(id, &[("General", 1)])))
            .await
            .unwrap(),
        BookResult::SoldOut {
            ticket_type: "General".into(),
            available: 0
        }
    );
}

async fn booking_holds_seats_and_a_line_that_cannot_be_served_reserves_nothing(
    store: Arc<dyn TicketStore>,
) {
    let id = published(&store, &[("General", 10), ("VIP", 5)]).await;
    let a = order(id, &[("General", 2), ("VIP", 1)]);
    booked(&store, &a).await;
    assert_eq!(
        stock_of(&store, id).await,
        [stock("General", 10, 0, 2), stock("VIP", 5, 0, 1)]
    );
    let details = store.order(a.id).await.unwrap().unwrap();
    assert_eq!(details.order, a);
    assert!(details.attempts.is_empty());
    assert!(details.tickets.is_empty());

    // The first line could be served, the second not: neither is held.
    let b = order(id, &[("General", 3), ("VIP", 5)]);
    assert_eq!(
        store.book(&booking(&b)).await.unwrap(),
        BookResult::SoldOut {
            ticket_type: "VIP".into(),
            available: 4
        }
    );
    let c = order(id, &[("General", 1), ("Balcony", 1)]);
    assert_eq!(
        store.book(&booking(&c)).await.unwrap(),
        BookResult::SoldOut {
            ticket_type: "Balcony".into(),
            available: 0
        }
    );
    assert_eq!(
        stock_of(&store, id).await,
        [stock("General", 10, 0, 2), stock("VIP", 5, 0, 1)]
    );
    assert!(store.order(b.id).await.unwrap().is_none());
    assert!(store.order(c.id).await.unwrap().is_none());
    assert_eq!(
        outbox_rows(&store).await,
        [row(subjects::ORDERS_CREATED, &a)]
    );
}

async fn a_cancelled_event_takes_no_booking_and_reserves_nothing(store: Arc<dyn TicketStore>) {
    let id = published(&store, &[("General", 10)]).await;
    let mut cancelled = event(id, 2, &[("General", 10)]);
    cancelled.status = EventStatus::Cancelled;
    assert!(store.apply_event(&cancelled).await.unwrap());
    let o = order(id, &[("General", 2)]);
    assert_eq!(
        store.book(&booking(&o)).await.unwrap(),
        BookResult::EventClosed
    );
    assert_eq!(stock_of(&store, id).await, [stock("General", 10, 0, 0)]);
    assert!(store.order(o.id).await.unwrap().is_none());
    assert!(
        outbox_rows(&store)
            .await
            .iter()
            .all(|(subject, _)| subject != "orders.created")
    );
}

async fn old_bookkeeping_is_purged_and_recent_bookkeeping_kept(store: Arc<dyn TicketStore>) {
    let id = published(&store, &[("General", 10)]).await;
    let o = order(id, &[("General", 1)]);
    let mut b = booking(&o);
    let user = o.user_id;
    b.idempotency = Some(IdempotencyRecord {
        user_id: user,
        key: "k-purge".into(),
        response: StoredResponse {
            request_hash: "h".into(),
            status: 201,
            body: "{}".into(),
        },
    });
    assert_eq!(store.book(&b).await.unwrap(), BookResult::Booked);
    let processed = Uuid::new_v4();
    confirm(&store, o.id, &attempt("completed"), processed, None).await;

    let long_ago = now() - Duration::days(1);
    assert_eq!(
        store.purge_bookkeeping(long_ago, long_ago).await.unwrap(),
        0
    );
    assert!(
        store
            .idempotent_response(user, "k-purge")
            .await
            .unwrap()
            .is_some()
    );

    let later = now() + Duration::seconds(5);
    assert_eq!(store.purge_bookkeeping(later, later).await.unwrap(), 2);
    assert!(
        store
            .idempotent_response(user, "k-purge")
            .await
            .unwrap()
            .is_none()
    );
}

async fn a_users_orders_are_listed_newest_first(store: Arc<dyn TicketStore>) {
    let id = published(&store, &[("General", 10)]).await;
    let mut older = order(id, &[("General", 1)]);
    older.created_at -= Duration::minutes(5);
    older.updated_at = older.created_at;
    let mut newer = order(id, &[("General", 2)]);
    newer.user_id = older.user_id;
    let someone_else = order(id, &[("General", 1)]);
    for o in [&older, &newer, &someone_else] {
        booked(&store, o).await;
    }
    assert_eq!(
        store.orders_of_user(older.user_id).await.unwrap(),
        [newer, older]
    );
    assert!(
        store
            .orders_of_user(Uuid::new_v4())
            .await
            .unwrap()
            .is_empty()
    );
}

async fn concurrent_bookings_never_oversell(store: Arc<dyn TicketStore>) {
    let id = published(&store, &[("General", 25)]).await;
    let tasks: Vec<_> = (0..40)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .book(&booking(&order(id, &[("General", 1)])))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    let booked = results.iter().filter(|r| **r == BookResult::Booked).count();
    let sold_out = results
        .iter()
        .filter(|r| {
            **r == BookResult::SoldOut {
                ticket_type: "General".into(),
                available: 0,
            }
        })
        .count();
    assert_eq!((booked, sold_out), (25, 15), "{results:?}");
    let s = &stock_of(&store, id).await[0];
    assert_eq!(s.sold + s.held, 25);
    assert_eq!(s.available(), 0);
    assert_eq!(outbox_rows(&store).await.len(), 25);
}

async fn a_duplicate_booking_reference_is_taken_and_reserves_nothing(store: Arc<dyn TicketStore>) {
    let id = published(&store, &[("General", 10)]).await;
    let a = order(id, &[("General", 2)]);
    booked(&store, &a).await;
    let mut b = order(id, &[("General", 3)]);
    b.booking_reference = a.booking_reference.clone();
    assert_eq!(
        store.book(&booking(&b)).await.unwrap(),
        BookResult::ReferenceTaken
    );
    assert_eq!(stock_of(&store, id).await, [stock("General", 10, 0, 2)]);
    assert!(store.order(b.id).await.unwrap().is_none());
    assert_eq!(
        outbox_rows(&store).await,
        [row(subjects::ORDERS_CREATED, &a)]
    );
}

async fn an_idempotency_key_stores_its_response_and_a_second_booking_gets_it(
    store: Arc<dyn TicketStore>,
) {
    let id = published(&store, &[("General", 10)]).await;
    let a = order(id, &[("General", 2)]);
    let response = StoredResponse {
        request_hash: "hash-a".into(),
        status: 201,
        body: format!(r#"{{"orderId":"{}"}}"#, a.id),
    };
    let keyed = |o: &Order, key: &str, response: &StoredResponse| Booking {
        idempotency: Some(IdempotencyRecord {
            user_id: o.user_id,
            key: key.into(),
            response: response.clone(),
        }),
        ..booking(o)
    };
    assert_eq!(
        store.book(&keyed(&a, "key-1", &response)).await.unwrap(),
        BookResult::Booked
    );
    assert_eq!(
        store.idempotent_response(a.user_id, "key-1").await.unwrap(),
        Some(response.clone())
    );
    assert_eq!(
        store.idempotent_response(a.user_id, "key-2").await.unwrap(),
        None
    );
    assert_eq!(
        store
            .idempotent_response(Uuid::new_v4(), "key-1")
            .await
            .unwrap(),
        None
    );

    // The same user and key again: the first response, nothing reserved, no order.
    let mut b = order(id, &[("General", 5)]);
    b.user_id = a.user_id;
    let other = StoredResponse {
        request_hash: "hash-b".into(),
        status: 201,
        body: "{}".into(),
    };
    assert_eq!(
        store.book(&keyed(&b, "key-1", &other)).await.unwrap(),
        BookResult::KeyUsed(response.clone())
    );
    assert_eq!(stock_of(&store, id).await, [stock("General", 10, 0, 2)]);
    assert!(store.order(b.id).await.unwrap().is_none());

    // Keys are per user.
    let c = order(id, &[("General", 1)]);
    assert_eq!(
        store.book(&keyed(&c, "key-1", &other)).await.unwrap(),
        BookResult::Booked
    );
    assert_eq!(
        store.idempotent_response(c.user_id, "key-1").await.unwrap(),
        Some(other)
    );
    assert_eq!(
        outbox_rows(&store).await,
        sorted(vec![
            row(subjects::ORDERS_CREATED, &a),
            row(subjects::ORDERS_CREATED, &c)
        ])
    );
}

async fn confirming_sells_the_held_seats_and_issues_one_unique_ticket_per_seat_once(
    store: Arc<dyn TicketStore>,
) {
    let id = published(&store, &[("General", 10), ("VIP", 5)]).await;
    let a = order(id, &[("General", 2), ("VIP", 1)]);
    booked(&store, &a).await;
    let paid = attempt("completed");
    let processed = Uuid::new_v4();
    let Transition::Applied(confirmed) = confirm(&store, a.id, &paid, processed, Some(TP)).await
    else {
        panic!("not applied");
    };
    assert_eq!(confirmed.id, a.id);
    assert_eq!(confirmed.status, OrderStatus::Confirmed);
    assert_eq!(confirmed.payment_id, Some(paid.payment_id));
    assert_eq!(
        stock_of(&store, id).await,
        [stock("General", 10, 2, 0), stock("VIP", 5, 1, 0)]
    );
    let details = store.order(a.id).await.unwrap().unwrap();
    assert_eq!(details.order, confirmed);
    assert_eq!(details.attempts, std::slice::from_ref(&paid));
    assert_eq!(
        details
            .tickets
            .iter()
            .map(|t| t.ticket_type.as_str())
            .collect::<Vec<_>>(),
        ["General", "General", "VIP"]
    );
    let codes: HashSet<_> = details.tickets.iter().map(|t| t.code.clone()).collect();
    assert_eq!(codes.len(), 3);

    // The same payment event again: nothing happens.
    assert_eq!(
        confirm(&store, a.id, &paid, processed, Some(TP)).await,
        Transition::Duplicate
    );
    // Another payment event for the confirmed order: noted, nothing sold or issued.
    let mut late = attempt("completed");
    late.at = paid.at + Duration::seconds(1);
    let Transition::NotPending(still) = confirm(&store, a.id, &late, Uuid::new_v4(), None).await
    else {
        panic!("not NotPending");
    };
    assert_eq!(still, confirmed);
    let details = store.order(a.id).await.unwrap().unwrap();
    assert_eq!(details.tickets.len(), 3);
    assert_eq!(details.attempts, [paid, late]);
    assert_eq!(
        stock_of(&store, id).await,
        [stock("General", 10, 2, 0), stock("VIP", 5, 1, 0)]
    );
    // A confirmed order cannot be cancelled.
    assert!(matches!(
        store
            .cancel(a.id, CancelReason::UserCancelled, None)
            .await
            .unwrap(),
        Transition::NotPending(_)
    ));
    assert_eq!(
        confirm(
            &store,
            Uuid::new_v4(),
            &attempt("completed"),
            Uuid::new_v4(),
            None
        )
        .await,
        Transition::NotFound
    );
}

async fn cancelling_releases_held_seats_exactly_once(store: Arc<dyn TicketStore>) {
    let id = published(&store, &[("General", 10)]).await;
    let a = order(id, &[("General", 4)]);
    booked(&store, &a).await;
    let Transition::Applied(cancelled) = store
        .cancel(a.id, CancelReason::UserCancelled, Some(TP))
        .await
        .unwrap()
    else {
        panic!("not applied");
    };
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert_eq!(cancelled.cancel_reason, Some(CancelReason::UserCancelled));
    assert_eq!(stock_of(&store, id).await, [stock("General", 10, 0, 0)]);

    assert_eq!(
        store
            .cancel(a.id, CancelReason::Expired, None)
            .await
            .unwrap(),
        Transition::NotPending(cancelled.clone())
    );
    assert_eq!(stock_of(&store, id).await, [stock("General", 10, 0, 0)]);
    // A payment arriving after the cancellation sells nothing.
    assert_eq!(
        confirm(&store, a.id, &attempt("completed"), Uuid::new_v4(), None).await,
        Transition::NotPending(cancelled)
    );
    assert_eq!(stock_of(&store, id).await, [stock("General", 10, 0, 0)]);
    assert!(store.order(a.id).await.unwrap().unwrap().tickets.is_empty());
    assert_eq!(
        store
            .cancel(Uuid::new_v4(), CancelReason::UserCancelled, None)
            .await
            .unwrap(),
        Transition::NotFound
    );
    // The released seats are bookable again.
    booked(&store, &order(id, &[("General", 10)])).await;
}

async fn payment_failures_are_counted_and_the_maximum_cancels_the_order(
    store: Arc<dyn TicketStore>,
) {
    let id = published(&store, &[("General", 10)]).await;
    let a = order(id, &[("General", 3)]);
    booked(&store, &a).await;
    let order_id = a.id;
    let fail = |processed: Uuid| {
        let store = store.clone();
        async move { run(&store, order_id, declined(3), processed, Some(TP)).await }
    };
    /// The declines counted so far, when the order survived the last one.
    fn failures(t: Transition) -> Option<u32> {
        match t {
            Transition::Recorded(o) if o.status == OrderStatus::Pending => Some(o.failed_payments),
            _ => None,
        }
    }
    assert_eq!(failures(fail(Uuid::new_v4()).await), Some(1));
    let redelivered = Uuid::new_v4();
    assert_eq!(failures(fail(redelivered).await), Some(2));
    assert_eq!(fail(redelivered).await, Transition::Duplicate);
    assert_eq!(stock_of(&store, id).await, [stock("General", 10, 0, 3)]);

    let Transition::Applied(cancelled) = fail(Uuid::new_v4()).await else {
        panic!("not cancelled");
    };
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert_eq!(cancelled.cancel_reason, Some(CancelReason::PaymentFailed));
    assert_eq!(cancelled.failed_payments, 3);
    assert_eq!(stock_of(&store, id).await, [stock("General", 10, 0, 0)]);
    assert_eq!(store.order(a.id).await.unwrap().unwrap().order, cancelled);

    assert_eq!(
        fail(Uuid::new_v4()).await,
        Transition::NotPending(cancelled.clone())
    );
    assert_eq!(stock_of(&store, id).await, [stock("General", 10, 0, 0)]);
    assert_eq!(store.order(a.id).await.unwrap().unwrap().attempts.len(), 4);
    assert_eq!(
        run(&store, Uuid::new_v4(), declined(3), Uuid::new_v4(), None).await,
        Transition::NotFound
    );

    // A fact that changes no state is noted once.
    let refund = Uuid::new_v4();
    let refunded = attempt("refunded");
    assert_eq!(
        run(&store, a.id, Command::Note(refunded.clone()), refund, None).await,
        Transition::Recorded(cancelled)
    );
    assert_eq!(
        run(&store, a.id, Command::Note(refunded.clone()), refund, None).await,
        Transition::Duplicate
    );
    assert_eq!(store.order(a.id).await.unwrap().unwrap().attempts.len(), 5);
}

async fn due_for_expiry_lists_only_pending_orders_past_their_hold(store: Arc<dyn TicketStore>) {
    let id = published(&store, &[("General", 20)]).await;
    let t = now();
    let expiring = |minutes: i64| {
        let mut o = order(id, &[("General", 1)]);
        o.expires_at = t + Duration::minutes(minutes);
        o
    };
    let (a, b, exactly_now, later) = (expiring(-10), expiring(-5), expiring(0), expiring(10));
    let (cancelled, confirmed) = (expiring(-20), expiring(-30));
    for o in [&b, &a, &later, &exactly_now, &cancelled, &confirmed] {
        booked(&store, o).await;
    }
    store
        .cancel(cancelled.id, CancelReason::UserCancelled, None)
        .await
        .unwrap();
    confirm(
        &store,
        confirmed.id,
        &attempt("completed"),
        Uuid::new_v4(),
        None,
    )
    .await;

    assert_eq!(
        store.due_for_expiry(t, 10).await.unwrap(),
        [a.id, b.id, exactly_now.id]
    );
    assert_eq!(store.due_for_expiry(t, 2).await.unwrap(), [a.id, b.id]);
    assert!(store.due_for_expiry(t, 0).await.unwrap().is_empty());
    assert!(
        store
            .due_for_expiry(t - Duration::hours(1), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn pending_of_event_lists_that_events_pending_orders_only(store: Arc<dyn TicketStore>) {
    let e1 = published(&store, &[("General", 20)]).await;
    let e2 = published(&store, &[("General", 20)]).await;
    let (a, b, c, d) = (
        order(e1, &[("General", 1)]),
        order(e1, &[("General", 2)]),
        order(e1, &[("General", 1)]),
        order(e1, &[("General", 1)]),
    );
    let x = order(e2, &[("General", 1)]);
    for o in [&a, &b, &c, &d, &x] {
        booked(&store, o).await;
    }
    store
        .cancel(c.id, CancelReason::Expired, None)
        .await
        .unwrap();
    confirm(&store, d.id, &attempt("completed"), Uuid::new_v4(), None).await;
    let pending: HashSet<Uuid> = store
        .pending_of_event(e1)
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(pending, HashSet::from([a.id, b.id]));
    assert_eq!(store.pending_of_event(e2).await.unwrap(), [x.id]);
    assert!(
        store
            .pending_of_event(Uuid::new_v4())
            .await
            .unwrap()
            .is_empty()
    );
}

async fn every_state_change_leaves_exactly_one_matching_outbox_row(store: Arc<dyn TicketStore>) {
    let id = published(&store, &[("General", 5)]).await;
    let mut expected = Vec::new();

    let a = order(id, &[("General", 1)]);
    booked(&store, &a).await;
    expected.push(row(subjects::ORDERS_CREATED, &a));
    assert_eq!(outbox_rows(&store).await, sorted(expected.clone()));
    let pending = store.outbox().pending(100).await.unwrap();
    assert_eq!(pending[0].traceparent.as_deref(), Some(TP));

    let processed = Uuid::new_v4();
    let paid = attempt("completed");
    confirm(&store, a.id, &paid, processed, None).await;
    confirm(&store, a.id, &paid, processed, None).await;
    confirm(&store, a.id, &attempt("completed"), Uuid::new_v4(), None).await;
    expected.push(row(subjects::ORDERS_CONFIRMED, &a));
    assert_eq!(outbox_rows(&store).await, sorted(expected.clone()));

    let b = order(id, &[("General", 2)]);
    booked(&store, &b).await;
    store
        .cancel(b.id, CancelReason::UserCancelled, None)
        .await
        .unwrap();
    store
        .cancel(b.id, CancelReason::Expired, None)
        .await
        .unwrap();
    expected.push(row(subjects::ORDERS_CREATED, &b));
    expected.push(row(subjects::ORDERS_CANCELLED, &b));
    assert_eq!(outbox_rows(&store).await, sorted(expected.clone()));

    // Refused bookings publish nothing.
    let too_many = order(id, &[("General", 5)]);
    assert!(matches!(
        store.book(&booking(&too_many)).await.unwrap(),
        BookResult::SoldOut { .. }
    ));
    let mut taken = order(id, &[("General", 1)]);
    taken.booking_reference = a.booking_reference.clone();
    assert_eq!(
        store.book(&booking(&taken)).await.unwrap(),
        BookResult::ReferenceTaken
    );
    assert_eq!(outbox_rows(&store).await, sorted(expected.clone()));

    // Declines publish only the cancellation they end in.
    let c = order(id, &[("General", 1)]);
    booked(&store, &c).await;
    expected.push(row(subjects::ORDERS_CREATED, &c));
    for _ in 0..3 {
        run(&store, c.id, declined(2), Uuid::new_v4(), None).await;
    }
    expected.push(row(subjects::ORDERS_CANCELLED, &c));
    assert_eq!(outbox_rows(&store).await, sorted(expected.clone()));

    // Expiry goes through the same conditional cancel.
    let d = order(id, &[("General", 1)]);
    booked(&store, &d).await;
    for order_id in store.due_for_expiry(d.expires_at, 10).await.unwrap() {
        store
            .cancel(order_id, CancelReason::Expired, None)
            .await
            .unwrap();
    }
    expected.push(row(subjects::ORDERS_CREATED, &d));
    expected.push(row(subjects::ORDERS_CANCELLED, &d));
    assert_eq!(outbox_rows(&store).await, sorted(expected));
    assert_eq!(stock_of(&store, id).await, [stock("General", 5, 1, 0)]);
}

async fn sqlite() -> Arc<dyn TicketStore> {
    Arc::new(SqliteStore::in_memory().unwrap())
}

/// A fresh database per test, or `None` when no MongoDB is configured.
async fn mongo() -> Option<Arc<dyn TicketStore>> {
    let uri = std::env::var("TEST_MONGODB_URI").ok()?;
    let db = format!("ticket_test_{}", Uuid::new_v4().simple());
    Some(Arc::new(
        MongoStore::connect(&uri, &db)
            .await
            .expect("MongoDB reachable"),
    ))
}

macro_rules! contract {
    ($($case:ident),* $(,)?) => {
        mod on_sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() { super::$case(super::sqlite().await).await; })*
        }
        mod on_mongodb {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                match super::mongo().await {
                    Some(store) => super::$case(store).await,
                    None => eprintln!("TEST_MONGODB_URI not set; MongoDB contract not run"),
                }
            })*
        }
    };
}

contract!(
    old_bookkeeping_is_purged_and_recent_bookkeeping_kept,
    a_cancelled_event_takes_no_booking_and_reserves_nothing,
    applying_an_event_creates_stock_and_a_newer_version_raises_capacity_but_never_lowers_it,
    booking_holds_seats_and_a_line_that_cannot_be_served_reserves_nothing,
    a_users_orders_are_listed_newest_first,
    concurrent_bookings_never_oversell,
    a_duplicate_booking_reference_is_taken_and_reserves_nothing,
    an_idempotency_key_stores_its_response_and_a_second_booking_gets_it,
    confirming_sells_the_held_seats_and_issues_one_unique_ticket_per_seat_once,
    cancelling_releases_held_seats_exactly_once,
    payment_failures_are_counted_and_the_maximum_cancels_the_order,
    due_for_expiry_lists_only_pending_orders_past_their_hold,
    pending_of_event_lists_that_events_pending_orders_only,
    every_state_change_leaves_exactly_one_matching_outbox_row,
);
