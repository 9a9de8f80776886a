//! One contract for every ticket store adapter: SQLite always, MongoDB when `TEST_MONGODB_URI`
//! names a replica set (transactions need one), each test in a fresh database.

use std::collections::HashSet;
use std::sync::Arc;

use api_types::checkin::{CheckinCounter, CheckinResponse, CheckinResult, ScanDirection};
use chrono::{DateTime, Duration, Utc};
use contracts::subjects;
use platform::money::{Currency, Money};
use ticket_service::checkin::ScanTarget;
use ticket_service::error::TicketError;
use ticket_service::lifecycle::{Command, Transition};
use ticket_service::order::{
    AttemptStatus, CancelReason, CustomerInfo, Order, OrderLine, OrderStatus, PaymentAttempt,
    Refund,
};
use ticket_service::sales::{OrderQuery, Sale};
use ticket_service::store::{
    BookResult, Booking, Draft, EventInfo, EventStatus, EventStock, EventTicket, IdempotencyRecord,
    MongoStore, Placed, RefundPolicy, Scan, SqliteStore, Stock, StoredKey, StoredResponse,
    TicketCheckin, TicketStore, TicketTypeInfo,
};
use ticket_service::summary;
use ticket_service::testing::order_details;
use uuid::Uuid;

#[path = "store_contract/waitlist.rs"]
mod waitlist_cases;
use waitlist_cases::*;
#[path = "store_contract/checkin.rs"]
mod checkin_cases;
use checkin_cases::*;

const TP: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
const ORGANIZER: Uuid = Uuid::from_u128(0x0199_8f3a_0000_7000_8000_0000_0000_00aa);
const POLICY: RefundPolicy = RefundPolicy {
    allowed: true,
    until_hours_before: 24,
};

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
        organizer_id: Some(ORGANIZER),
        refund_policy: POLICY,
        waitlist_enabled: true,
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

/// The refusal of a booking when `ticket_type` has only `available` seats left.
fn sold_out(ticket_type: &str, available: u32) -> BookResult {
    BookResult::SoldOut {
        ticket_type: ticket_type.into(),
        available,
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

/// The order a transition changed; any other outcome fails the test.
fn applied(transition: Transition) -> Order {
    match transition {
        Transition::Applied(order) => order,
        other => panic!("not applied: {other:?}"),
    }
}

/// Cancels the order for `reason`, as the routes, the sweep and the cascade do.
async fn cancel(
    store: &Arc<dyn TicketStore>,
    order_id: Uuid,
    reason: CancelReason,
    traceparent: Option<&str>,
) -> Transition {
    store.cancel(order_id, reason, traceparent).await.unwrap()
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

/// Books `order`, which the store must refuse with `expected`, keeping nothing of it.
async fn refused(store: &Arc<dyn TicketStore>, order: &Order, expected: BookResult) {
    assert_eq!(store.book(&booking(order)).await.unwrap(), expected);
    assert!(store.order(order.id).await.unwrap().is_none());
}

/// The store's answer to a new order of one `General` seat of `event`.
async fn book_one_general(store: &Arc<dyn TicketStore>, event: Uuid) -> BookResult {
    store
        .book(&booking(&order(event, &[("General", 1)])))
        .await
        .unwrap()
}

/// The unpublished outbox as `(subject, order id)` pairs, sorted.
async fn outbox_rows(store: &Arc<dyn TicketStore>) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = store
        .outbox()
        .pending(10_000)
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
    assert_eq!(book_one_general(&store, id).await, sold_out("General", 0));
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
    let details = order_details(&store, a.id).await;
    assert_eq!(details.order, a);
    assert!(details.attempts.is_empty());
    assert!(details.tickets.is_empty());

    // The first line could be served, the second not: neither is held.
    let b = order(id, &[("General", 3), ("VIP", 5)]);
    refused(&store, &b, sold_out("VIP", 4)).await;
    let c = order(id, &[("General", 1), ("Balcony", 1)]);
    refused(&store, &c, sold_out("Balcony", 0)).await;
    assert_eq!(
        stock_of(&store, id).await,
        [stock("General", 10, 0, 2), stock("VIP", 5, 0, 1)]
    );
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
    refused(
        &store,
        &order(id, &[("General", 2)]),
        BookResult::EventClosed,
    )
    .await;
    assert_eq!(stock_of(&store, id).await, [stock("General", 10, 0, 0)]);
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
    let code = store_codes(&store, o.id).await.remove(0);
    let first = checked_in(&store, scan(id, &code, "n-purge", now(), "North")).await;
    assert_eq!(first.result, CheckinResult::Ok);

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

    // Recent: the nonce still replays its answer.
    let replay = checked_in(&store, scan(id, &code, "n-purge", now(), "South")).await;
    assert_eq!(replay, first);

    let later = now() + Duration::seconds(5);
    assert_eq!(store.purge_bookkeeping(later, later).await.unwrap(), 3);
    // Forgotten: the same nonce is a new scan of a ticket inside.
    let again = checked_in(&store, scan(id, &code, "n-purge", now(), "South")).await;
    assert_eq!(again.result, CheckinResult::AlreadyCheckedIn);
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
            tokio::spawn(async move { book_one_general(&store, id).await })
        })
        .collect();
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    let booked = results.iter().filter(|r| **r == BookResult::Booked).count();
    let sold_out = results
        .iter()
        .filter(|r| **r == sold_out("General", 0))
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
    refused(&store, &b, BookResult::ReferenceTaken).await;
    assert_eq!(stock_of(&store, id).await, [stock("General", 10, 0, 2)]);
    assert_eq!(
        outbox_rows(&store).await,
        [row(subjects::ORDERS_CREATED, &a)]
    );
}

/// Bookings that arrive together, as a flash sale's do: every outcome is the booking's own. One
/// whose reference is taken or whose second line cannot be served holds nothing afterwards,
/// and the bookings stored beside it (in the same commit, where a store groups them) keep theirs.
async fn bookings_arriving_together_each_get_their_own_outcome_and_a_refused_one_holds_nothing(
    store: Arc<dyn TicketStore>,
) {
    let id = published(&store, &[("General", 20), ("VIP", 2)]).await;
    let first = order(id, &[("General", 1)]);
    booked(&store, &first).await;
    let mut kinds = Vec::new();
    let tasks: Vec<_> = (0..25)
        .map(|i| {
            let (mut o, kind) = match i % 5 {
                0 => {
                    let mut o = order(id, &[("General", 1)]);
                    o.booking_reference = first.booking_reference.clone();
                    (o, "reference taken")
                }
                1 => (order(id, &[("General", 1), ("VIP", 3)]), "VIP sold out"),
                _ => (order(id, &[("General", 1)]), "booked"),
            };
            o.booking_reference = if kind == "reference taken" {
                o.booking_reference
            } else {
                format!("TK-T{i:07}")
            };
            kinds.push((o.clone(), kind));
            let store = store.clone();
            tokio::spawn(async move { store.book(&booking(&o)).await.unwrap() })
        })
        .collect();
    let mut booked_orders = vec![first.clone()];
    for ((o, kind), task) in kinds.into_iter().zip(tasks) {
        let result = task.await.unwrap();
        let expected = match kind {
            "reference taken" => BookResult::ReferenceTaken,
            "VIP sold out" => sold_out("VIP", 2),
            _ => BookResult::Booked,
        };
        assert_eq!(result, expected, "{kind}");
        let stored = store.order(o.id).await.unwrap();
        assert_eq!(stored.is_some(), kind == "booked", "{kind}");
        if kind == "booked" {
            booked_orders.push(o);
        }
    }
    assert_eq!(booked_orders.len(), 16);
    assert_eq!(
        stock_of(&store, id).await,
        [stock("General", 20, 0, 16), stock("VIP", 2, 0, 0)]
    );
    assert_eq!(
        outbox_rows(&store).await,
        sorted(
            booked_orders
                .iter()
                .map(|o| row(subjects::ORDERS_CREATED, o))
                .collect()
        )
    );
}

/// A draft as the booking route makes one: the order for `lines` if the stock has them all.
fn draft_of(order: Order) -> Draft {
    Box::new(move |stock: &EventStock| {
        for line in &order.lines {
            if !stock
                .stock
                .iter()
                .any(|s| s.ticket_type == line.ticket_type)
            {
                return Err(TicketError::EventNotFound);
            }
        }
        Ok(booking(&order))
    })
}

async fn placing_a_booking_checks_its_key_drafts_on_the_stored_stock_and_books(
    store: Arc<dyn TicketStore>,
) {
    let unknown = Uuid::new_v4();
    let o = order(unknown, &[("General", 1)]);
    assert!(matches!(
        store.place(unknown, None, draft_of(o)).await.unwrap(),
        Placed::UnknownEvent
    ));

    let id = published(&store, &[("General", 3)]).await;
    let refused = order(id, &[("Balcony", 1)]);
    assert!(matches!(
        store
            .place(id, None, draft_of(refused.clone()))
            .await
            .unwrap(),
        Placed::Refused(TicketError::EventNotFound)
    ));
    assert!(store.order(refused.id).await.unwrap().is_none());

    let a = order(id, &[("General", 2)]);
    let response = StoredResponse {
        request_hash: "hash-a".into(),
        status: 201,
        body: "{}".into(),
    };
    let keyed = Booking {
        idempotency: Some(IdempotencyRecord {
            user_id: a.user_id,
            key: "key-1".into(),
            response: response.clone(),
        }),
        ..booking(&a)
    };
    let placed = store
        .place(id, Some((a.user_id, "key-1")), Box::new(move |_| Ok(keyed)))
        .await
        .unwrap();
    assert!(
        matches!(&placed, Placed::Tried(b, BookResult::Booked) if b.order.id == a.id),
        "{placed:?}"
    );
    assert_eq!(stock_of(&store, id).await, [stock("General", 3, 0, 2)]);

    // The key again: its response, and the draft is not even asked.
    let again = store
        .place(
            id,
            Some((a.user_id, "key-1")),
            Box::new(|_| panic!("a used key drafts nothing")),
        )
        .await
        .unwrap();
    assert!(matches!(again, Placed::KeyUsed(r) if r == response));

    // What the draft saw is what the store holds: one seat left, two asked.
    let b = order(id, &[("General", 2)]);
    assert!(matches!(
        store.place(id, None, draft_of(b.clone())).await.unwrap(),
        Placed::Tried(_, BookResult::SoldOut { available: 1, .. })
    ));
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
    let confirmed = applied(confirm(&store, a.id, &paid, processed, Some(TP)).await);
    assert_eq!(confirmed.id, a.id);
    assert_eq!(confirmed.status, OrderStatus::Confirmed);
    assert_eq!(confirmed.payment_id, Some(paid.payment_id));
    assert_eq!(
        stock_of(&store, id).await,
        [stock("General", 10, 2, 0), stock("VIP", 5, 1, 0)]
    );
    let details = order_details(&store, a.id).await;
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
    let details = order_details(&store, a.id).await;
    assert_eq!(details.tickets.len(), 3);
    assert_eq!(details.attempts, [paid, late]);
    assert_eq!(
        stock_of(&store, id).await,
        [stock("General", 10, 2, 0), stock("VIP", 5, 1, 0)]
    );
    // A confirmed order cannot be cancelled.
    assert!(matches!(
        cancel(&store, a.id, CancelReason::UserCancelled, None).await,
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
    let cancelled = applied(cancel(&store, a.id, CancelReason::UserCancelled, Some(TP)).await);
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert_eq!(cancelled.cancel_reason, Some(CancelReason::UserCancelled));
    assert_eq!(stock_of(&store, id).await, [stock("General", 10, 0, 0)]);

    assert_eq!(
        cancel(&store, a.id, CancelReason::Expired, None).await,
        Transition::NotPending(cancelled.clone())
    );
    assert_eq!(stock_of(&store, id).await, [stock("General", 10, 0, 0)]);
    // A payment arriving after the cancellation sells nothing.
    assert_eq!(
        confirm(&store, a.id, &attempt("completed"), Uuid::new_v4(), None).await,
        Transition::NotPending(cancelled)
    );
    assert_eq!(stock_of(&store, id).await, [stock("General", 10, 0, 0)]);
    assert!(order_details(&store, a.id).await.tickets.is_empty());
    assert_eq!(
        cancel(&store, Uuid::new_v4(), CancelReason::UserCancelled, None).await,
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

    let cancelled = applied(fail(Uuid::new_v4()).await);
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert_eq!(cancelled.cancel_reason, Some(CancelReason::PaymentFailed));
    assert_eq!(cancelled.failed_payments, 3);
    assert_eq!(stock_of(&store, id).await, [stock("General", 10, 0, 0)]);
    assert_eq!(order_details(&store, a.id).await.order, cancelled);

    assert_eq!(
        fail(Uuid::new_v4()).await,
        Transition::NotPending(cancelled.clone())
    );
    assert_eq!(stock_of(&store, id).await, [stock("General", 10, 0, 0)]);
    assert_eq!(order_details(&store, a.id).await.attempts.len(), 4);
    assert_eq!(
        run(&store, Uuid::new_v4(), declined(3), Uuid::new_v4(), None).await,
        Transition::NotFound
    );

    // A refund of a payment that never confirmed the order is noted once.
    let refund = Uuid::new_v4();
    let command = refund_of(&attempt("completed"), 7_500);
    assert_eq!(
        run(&store, a.id, command.clone(), refund, None).await,
        Transition::Recorded(cancelled)
    );
    assert_eq!(
        run(&store, a.id, command, refund, None).await,
        Transition::Duplicate
    );
    assert_eq!(order_details(&store, a.id).await.attempts.len(), 5);
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
    cancel(&store, cancelled.id, CancelReason::UserCancelled, None).await;
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

async fn orders_to_cascade_lists_the_open_orders_of_cancelled_events_only(
    store: Arc<dyn TicketStore>,
) {
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
    cancel(&store, c.id, CancelReason::Expired, None).await;
    confirm(&store, d.id, &attempt("completed"), Uuid::new_v4(), None).await;
    assert!(store.orders_to_cascade(10).await.unwrap().is_empty());

    cancel_event(&store, e1).await;
    let open: HashSet<Uuid> = store
        .orders_to_cascade(10)
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(open, HashSet::from([a.id, b.id, d.id]));
    assert_eq!(store.orders_to_cascade(2).await.unwrap().len(), 2);
    assert!(store.orders_to_cascade(0).await.unwrap().is_empty());

    let ids: Vec<Uuid> = open.into_iter().collect();
    store
        .apply_batch(&ids, &Command::Cancel(CancelReason::EventCancelled), None)
        .await
        .unwrap();
    assert!(store.orders_to_cascade(10).await.unwrap().is_empty());
    assert_eq!(
        order_details(&store, x.id).await.order.status,
        OrderStatus::Pending
    );
}

async fn a_batch_ends_each_order_as_it_stands_in_one_unit(store: Arc<dyn TicketStore>) {
    let id = published(&store, &[("General", 10), ("VIP", 5)]).await;
    let pending = order(id, &[("General", 2)]);
    let paid = order(id, &[("General", 1), ("VIP", 2)]);
    let ended = order(id, &[("General", 1)]);
    for o in [&pending, &paid, &ended] {
        booked(&store, o).await;
    }
    confirm(&store, paid.id, &attempt("completed"), Uuid::new_v4(), None).await;
    let ended = applied(cancel(&store, ended.id, CancelReason::UserCancelled, None).await);
    cancel_event(&store, id).await;
    let before = outbox_rows(&store).await;

    let unknown = Uuid::new_v4();
    let transitions = store
        .apply_batch(
            &[pending.id, paid.id, ended.id, unknown],
            &Command::Cancel(CancelReason::EventCancelled),
            Some(TP),
        )
        .await
        .unwrap();
    let applied: Vec<(Uuid, OrderStatus, Option<CancelReason>)> = transitions[..2]
        .iter()
        .map(|t| match t {
            Transition::Applied(o) => (o.id, o.status, o.cancel_reason),
            other => panic!("not applied: {other:?}"),
        })
        .collect();
    let reason = Some(CancelReason::EventCancelled);
    assert_eq!(
        applied,
        [
            (pending.id, OrderStatus::Cancelled, reason),
            (paid.id, OrderStatus::Cancelled, reason)
        ]
    );
    assert_eq!(
        transitions[2..],
        [Transition::NotPending(ended), Transition::NotFound]
    );
    assert_eq!(
        stock_of(&store, id).await,
        [stock("General", 10, 0, 0), stock("VIP", 5, 0, 0)]
    );
    assert!(
        order_details(&store, paid.id)
            .await
            .tickets
            .iter()
            .all(|t| t.void)
    );
    let mut expected = before;
    expected.push(row(subjects::ORDERS_CANCELLED, &pending));
    expected.push(row(subjects::ORDERS_CANCELLED, &paid));
    assert_eq!(outbox_rows(&store).await, sorted(expected));

    // Nothing left to end: the same batch again changes nothing.
    let again = store
        .apply_batch(
            &[pending.id, paid.id],
            &Command::Cancel(CancelReason::EventCancelled),
            None,
        )
        .await
        .unwrap();
    assert!(again.iter().all(|t| matches!(t, Transition::NotPending(_))));
}

async fn cancelling_a_paid_order_for_a_refund_releases_its_sold_seats_and_voids_its_tickets_once(
    store: Arc<dyn TicketStore>,
) {
    let id = published(&store, &[("General", 10), ("VIP", 5)]).await;
    let a = order(id, &[("General", 2), ("VIP", 1)]);
    booked(&store, &a).await;
    // A refund of an unpaid order is refused and changes nothing.
    assert!(matches!(
        cancel(&store, a.id, CancelReason::OrganizerRefund, None).await,
        Transition::NotConfirmed(o) if o.status == OrderStatus::Pending
    ));
    assert_eq!(
        stock_of(&store, id).await,
        [stock("General", 10, 0, 2), stock("VIP", 5, 0, 1)]
    );
    let paid = attempt("completed");
    let confirmed = applied(confirm(&store, a.id, &paid, Uuid::new_v4(), None).await);
    assert!(confirmed.paid_at.is_some());

    let cancelled = applied(cancel(&store, a.id, CancelReason::OrganizerRefund, Some(TP)).await);
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert_eq!(cancelled.cancel_reason, Some(CancelReason::OrganizerRefund));
    assert_eq!(cancelled.paid_at, confirmed.paid_at);
    assert!(cancelled.cancelled_at.is_some());
    assert_eq!(
        stock_of(&store, id).await,
        [stock("General", 10, 0, 0), stock("VIP", 5, 0, 0)]
    );
    let details = order_details(&store, a.id).await;
    assert_eq!(details.order, cancelled);
    assert_eq!(details.tickets.len(), 3);
    assert!(details.tickets.iter().all(|t| t.void));

    // Once: a second refund, a buyer's, or the event's cancellation change nothing.
    for reason in [
        CancelReason::OrganizerRefund,
        CancelReason::BuyerRefund,
        CancelReason::EventCancelled,
    ] {
        let t = cancel(&store, a.id, reason, None).await;
        assert!(
            matches!(&t, Transition::NotConfirmed(o) | Transition::NotPending(o) if *o == cancelled),
            "{t:?}"
        );
    }
    assert_eq!(
        stock_of(&store, id).await,
        [stock("General", 10, 0, 0), stock("VIP", 5, 0, 0)]
    );
    let cancellations = outbox_rows(&store)
        .await
        .into_iter()
        .filter(|r| *r == row(subjects::ORDERS_CANCELLED, &a))
        .count();
    assert_eq!(cancellations, 1);
    // The seats are on sale again.
    booked(&store, &order(id, &[("General", 10), ("VIP", 5)])).await;
}

/// `payments.refunded` of `payment` for `minor` units.
fn refund_of(payment: &PaymentAttempt, minor: i64) -> Command {
    Command::RecordRefund {
        attempt: PaymentAttempt {
            payment_id: payment.payment_id,
            status: AttemptStatus::Refunded,
            response_code: Some("refunded".into()),
            response_message: Some("event_cancelled".into()),
            at: now(),
        },
        amount: Money::from_minor_units(minor, Currency::USD),
    }
}

async fn the_refund_of_the_confirming_payment_marks_the_order_refunded_once(
    store: Arc<dyn TicketStore>,
) {
    let id = published(&store, &[("General", 10)]).await;
    let a = order(id, &[("General", 2)]);
    booked(&store, &a).await;
    let paid = attempt("completed");
    confirm(&store, a.id, &paid, Uuid::new_v4(), None).await;
    // A refund before the cancellation (out of order) is only noted.
    let early = Uuid::new_v4();
    assert!(matches!(
        run(&store, a.id, refund_of(&paid, 5_000), early, None).await,
        Transition::Recorded(o) if o.status == OrderStatus::Confirmed
    ));
    cancel(&store, a.id, CancelReason::EventCancelled, None).await;

    let message = Uuid::new_v4();
    let command = refund_of(&paid, 5_000);
    let refunded = applied(run(&store, a.id, command.clone(), message, Some(TP)).await);
    let Command::RecordRefund { attempt: back, .. } = &command else {
        unreachable!()
    };
    assert_eq!(refunded.status, OrderStatus::Refunded);
    assert_eq!(
        refunded.refund,
        Some(Refund {
            amount: Money::from_minor_units(5_000, Currency::USD),
            refunded_at: back.at,
            reason: CancelReason::EventCancelled,
        })
    );
    let details = order_details(&store, a.id).await;
    assert_eq!(details.order, refunded);
    assert!(details.tickets.iter().all(|t| t.void));
    assert_eq!(
        details
            .attempts
            .iter()
            .map(|a| a.status)
            .collect::<Vec<_>>(),
        [AttemptStatus::Completed, AttemptStatus::Refunded]
    );

    assert_eq!(
        run(&store, a.id, command.clone(), message, None).await,
        Transition::Duplicate
    );
    assert_eq!(
        run(&store, a.id, command, Uuid::new_v4(), None).await,
        Transition::Recorded(refunded.clone())
    );
    assert_eq!(order_details(&store, a.id).await.order, refunded);
    assert_eq!(stock_of(&store, id).await, [stock("General", 10, 0, 0)]);
}

async fn an_event_keeps_its_organizer_when_a_change_does_not_name_one(store: Arc<dyn TicketStore>) {
    let id = published(&store, &[("General", 10)]).await;
    let stored = store.event_stock(id).await.unwrap().unwrap().event;
    assert_eq!(
        (stored.organizer_id, stored.refund_policy),
        (Some(ORGANIZER), POLICY)
    );
    let mut cancelled = event(id, 2, &[]);
    cancelled.status = EventStatus::Cancelled;
    cancelled.organizer_id = None;
    cancelled.refund_policy = RefundPolicy::default();
    assert!(store.apply_event(&cancelled).await.unwrap());
    let stored = store.event_stock(id).await.unwrap().unwrap().event;
    assert_eq!(stored.status, EventStatus::Cancelled);
    assert_eq!(stored.organizer_id, Some(ORGANIZER));
    assert_eq!(stored.refund_policy, RefundPolicy::default());

    // An event first learned without an organizer has none.
    let mut anonymous = event(Uuid::new_v4(), 1, &[("General", 1)]);
    anonymous.organizer_id = None;
    store.apply_event(&anonymous).await.unwrap();
    let stored = store
        .event_stock(anonymous.id)
        .await
        .unwrap()
        .unwrap()
        .event;
    assert_eq!(stored.organizer_id, None);
}

/// An order of `event` for `first last <email>`, made `minutes_ago`.
fn order_of(event_id: Uuid, first: &str, last: &str, email: &str, minutes_ago: i64) -> Order {
    let mut o = order(event_id, &[("General", 1)]);
    o.customer = CustomerInfo {
        first_name: first.into(),
        last_name: last.into(),
        email: email.into(),
        phone: None,
    };
    o.created_at = now() - Duration::minutes(minutes_ago);
    o.updated_at = o.created_at;
    o.expires_at = o.created_at + Duration::minutes(15);
    o
}

async fn an_events_orders_are_paged_newest_first_and_found_by_status_name_email_or_reference(
    store: Arc<dyn TicketStore>,
) {
    let id = published(&store, &[("General", 50)]).await;
    let other = published(&store, &[("General", 50)]).await;
    let ada = order_of(id, "Ada", "Lovelace", "ada@example.com", 50);
    let zoe = order_of(id, "Zoë", "O'Brien, Jr.", "zoe@example.org", 40);
    let grace = order_of(id, "Grace", "Hopper", "grace@navy.example", 30);
    let alan = order_of(id, "Alan", "Turing", "alan@example.com", 20);
    let elsewhere = order_of(other, "Ada", "Lovelace", "ada@example.com", 10);
    for o in [&ada, &zoe, &grace, &alan, &elsewhere] {
        booked(&store, o).await;
    }
    confirm(
        &store,
        grace.id,
        &attempt("completed"),
        Uuid::new_v4(),
        None,
    )
    .await;
    confirm(&store, alan.id, &attempt("completed"), Uuid::new_v4(), None).await;

    let ids = |q: &OrderQuery| {
        let store = store.clone();
        let q = q.clone();
        async move {
            let page = store.orders_of_event(id, &q).await.unwrap();
            let ids: Vec<Uuid> = page.orders.iter().map(|o| o.id).collect();
            (ids, page.total)
        }
    };
    let all = OrderQuery::new(None, None, None, None);
    assert_eq!(
        ids(&all).await,
        (vec![alan.id, grace.id, zoe.id, ada.id], 4)
    );
    let page = store.orders_of_event(id, &all).await.unwrap();
    let stored_grace = page.orders.iter().find(|o| o.id == grace.id).unwrap();
    assert_eq!(stored_grace.status, OrderStatus::Confirmed);
    assert!(stored_grace.paid_at.is_some());

    let second = OrderQuery::new(None, None, Some(2), Some(3));
    assert_eq!(ids(&second).await, (vec![ada.id], 4));
    let beyond = OrderQuery::new(None, None, Some(3), Some(3));
    assert_eq!(ids(&beyond).await, (vec![], 4));
    let confirmed = OrderQuery::new(Some(OrderStatus::Confirmed), None, None, None);
    assert_eq!(ids(&confirmed).await, (vec![alan.id, grace.id], 2));
    let refunded = OrderQuery::new(Some(OrderStatus::Refunded), None, None, None);
    assert_eq!(ids(&refunded).await, (vec![], 0));

    for (q, expected) in [
        ("ZOË", vec![zoe.id]),
        ("o'brien, jr", vec![zoe.id]),
        ("ada lovelace", vec![ada.id]),
        ("EXAMPLE.COM", vec![alan.id, ada.id]),
        (
            grace.booking_reference.to_lowercase().as_str(),
            vec![grace.id],
        ),
        ("%", vec![]),
        ("nobody", vec![]),
    ] {
        let query = OrderQuery::new(None, Some(q), None, None);
        let found = ids(&query).await;
        assert_eq!(found, (expected.clone(), expected.len() as u64), "{q}");
        // The store finds what the rule says.
        let rule: Vec<Uuid> = [&alan, &grace, &zoe, &ada]
            .into_iter()
            .filter(|o| query.matches(o))
            .map(|o| o.id)
            .collect();
        assert_eq!(found.0, rule, "{q}");
    }
    let confirmed_at_example = OrderQuery::new(
        Some(OrderStatus::Confirmed),
        Some("@example.com"),
        None,
        Some(1),
    );
    assert_eq!(ids(&confirmed_at_example).await, (vec![alan.id], 1));
}

async fn an_events_tickets_carry_their_holder_and_order_and_void_ones_stay_listed(
    store: Arc<dyn TicketStore>,
) {
    let id = published(&store, &[("General", 10), ("VIP", 5)]).await;
    let first = order_of(id, "Ada", "Lovelace", "ada@example.com", 30);
    let mut second = order_of(id, "Grace", "Hopper, \"Amazing\"", "grace@example.com", 20);
    second.lines = vec![
        OrderLine::new("General".into(), price("General"), 1).unwrap(),
        OrderLine::new("VIP".into(), price("VIP"), 1).unwrap(),
    ];
    second.total_amount = ticket_service::order::total(&second.lines, Currency::USD).unwrap();
    let unpaid = order_of(id, "Alan", "Turing", "alan@example.com", 10);
    for o in [&first, &second, &unpaid] {
        booked(&store, o).await;
    }
    for o in [&first, &second] {
        confirm(&store, o.id, &attempt("completed"), Uuid::new_v4(), None).await;
    }
    cancel(&store, first.id, CancelReason::BuyerRefund, None).await;

    let tickets = store.tickets_of_event(id).await.unwrap();
    let first_codes = store_codes(&store, first.id).await;
    let second_codes = store_codes(&store, second.id).await;
    let expected = |o: &Order, code: &str, ticket_type: &str, void, status| EventTicket {
        code: code.into(),
        ticket_type: ticket_type.into(),
        void,
        order_id: o.id,
        booking_reference: o.booking_reference.clone(),
        order_status: status,
        holder: o.customer.clone(),
        check_in: None,
    };
    assert_eq!(
        tickets,
        [
            expected(
                &first,
                &first_codes[0],
                "General",
                true,
                OrderStatus::Cancelled
            ),
            expected(
                &second,
                &second_codes[0],
                "General",
                false,
                OrderStatus::Confirmed
            ),
            expected(
                &second,
                &second_codes[1],
                "VIP",
                false,
                OrderStatus::Confirmed
            ),
        ]
    );
    assert!(
        store
            .tickets_of_event(Uuid::new_v4())
            .await
            .unwrap()
            .is_empty()
    );
}

async fn store_codes(store: &Arc<dyn TicketStore>, order_id: Uuid) -> Vec<String> {
    order_details(store, order_id)
        .await
        .tickets
        .into_iter()
        .map(|t| t.code)
        .collect()
}

async fn an_events_sales_are_every_order_as_the_summary_counts_it(store: Arc<dyn TicketStore>) {
    let id = published(&store, &[("General", 20), ("VIP", 5)]).await;
    let usd = |minor| Money::from_minor_units(minor, Currency::USD);
    let pending = order(id, &[("General", 1)]);
    let kept = order(id, &[("General", 2), ("VIP", 1)]);
    let refunded = order(id, &[("VIP", 2)]);
    let expired = order(id, &[("General", 3)]);
    for o in [&pending, &kept, &refunded, &expired] {
        booked(&store, o).await;
    }
    let paid = attempt("completed");
    confirm(&store, kept.id, &attempt("completed"), Uuid::new_v4(), None).await;
    confirm(&store, refunded.id, &paid, Uuid::new_v4(), None).await;
    cancel(&store, refunded.id, CancelReason::BuyerRefund, None).await;
    run(
        &store,
        refunded.id,
        refund_of(&paid, 20_000),
        Uuid::new_v4(),
        None,
    )
    .await;
    cancel(&store, expired.id, CancelReason::Expired, None).await;

    let mut sales = store.sales_of_event(id).await.unwrap();
    let mut expected = Vec::new();
    for o in [&pending, &kept, &refunded, &expired] {
        let stored = order_details(&store, o.id).await.order;
        expected.push(Sale {
            status: stored.status,
            total: stored.total_amount,
            tickets: stored.seat_count(),
            paid_at: stored.paid_at,
            refunded: stored.refund.map(|r| r.amount),
        });
    }
    let key = |s: &Sale| (s.status.as_str(), s.total.minor_units());
    sales.sort_by_key(key);
    expected.sort_by_key(key);
    assert_eq!(sales, expected);

    let summary = summary::summarize(&store.event_stock(id).await.unwrap().unwrap(), &sales, &[]);
    assert_eq!(
        (summary.gross, summary.refunded, summary.net),
        (usd(35_000), usd(20_000), usd(15_000))
    );
    let counts = summary.orders_by_status;
    assert_eq!(
        (
            counts.pending,
            counts.confirmed,
            counts.cancelled,
            counts.refunded
        ),
        (1, 1, 1, 1)
    );
    assert_eq!(
        summary.ticket_types,
        [stock("General", 20, 2, 1), stock("VIP", 5, 1, 0)]
    );
    assert!(
        store
            .sales_of_event(Uuid::new_v4())
            .await
            .unwrap()
            .is_empty()
    );
}

/// Cancels the event in the catalogue's name (a newer version, cancelled).
async fn cancel_event(store: &Arc<dyn TicketStore>, id: Uuid) {
    let mut cancelled = event(id, 100, &[]);
    cancelled.status = EventStatus::Cancelled;
    assert!(store.apply_event(&cancelled).await.unwrap());
}

async fn the_cascade_racing_payments_and_buyers_ends_each_order_exactly_once(
    store: Arc<dyn TicketStore>,
) {
    let id = published(&store, &[("General", 200)]).await;
    let mut pending = Vec::new();
    let mut paid = Vec::new();
    for i in 0..60 {
        let o = order(id, &[("General", 1 + i % 3)]);
        booked(&store, &o).await;
        if i % 2 == 0 {
            confirm(&store, o.id, &attempt("completed"), Uuid::new_v4(), None).await;
            paid.push(o);
        } else {
            pending.push(o);
        }
    }
    let seats: u32 = pending.iter().chain(&paid).map(|o| o.seat_count()).sum();
    let s = &stock_of(&store, id).await[0];
    assert_eq!(s.sold + s.held, seats);
    cancel_event(&store, id).await;

    // Four cascade workers draining small batches, while every pending order is being paid
    // (and a third of them cancelled by the buyer) and every paid one refunded to its buyer.
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut applied = Vec::new();
            loop {
                let ids = store.orders_to_cascade(7).await.unwrap();
                if ids.is_empty() {
                    return applied;
                }
                let command = Command::Cancel(CancelReason::EventCancelled);
                for t in store.apply_batch(&ids, &command, None).await.unwrap() {
                    if let Transition::Applied(o) = t {
                        applied.push((o.id, o.status));
                    }
                }
            }
        }));
    }
    let one = |store: &Arc<dyn TicketStore>, id: Uuid, command: Command| {
        let store = store.clone();
        tokio::spawn(async move {
            match store
                .apply(id, &command, Some(Uuid::new_v4()), None)
                .await
                .unwrap()
            {
                Transition::Applied(o) => vec![(o.id, o.status)],
                _ => Vec::new(),
            }
        })
    };
    for (i, o) in pending.iter().enumerate() {
        tasks.push(one(&store, o.id, Command::Confirm(attempt("completed"))));
        if i % 3 == 0 {
            tasks.push(one(
                &store,
                o.id,
                Command::Cancel(CancelReason::UserCancelled),
            ));
        }
    }
    for o in &paid {
        tasks.push(one(
            &store,
            o.id,
            Command::Cancel(CancelReason::BuyerRefund),
        ));
    }
    let mut applied = Vec::new();
    for t in tasks {
        applied.extend(t.await.unwrap());
    }

    // Each order ended exactly once, and was confirmed at most once before it did.
    for o in pending.iter().chain(&paid) {
        let ends = applied
            .iter()
            .filter(|(id, status)| *id == o.id && *status == OrderStatus::Cancelled)
            .count();
        assert_eq!(ends, 1, "order {} ended {ends} times", o.id);
        let details = order_details(&store, o.id).await;
        assert_eq!(details.order.status, OrderStatus::Cancelled);
        let reason = details.order.cancel_reason.unwrap();
        assert!(
            matches!(
                reason,
                CancelReason::EventCancelled
                    | CancelReason::UserCancelled
                    | CancelReason::BuyerRefund
            ),
            "{reason:?}"
        );
        // Tickets only for a sale, and void now that it ended.
        if details.order.payment_id.is_some() {
            assert_eq!(details.tickets.len(), o.seat_count() as usize);
            assert!(details.tickets.iter().all(|t| t.void));
        } else {
            assert!(details.tickets.is_empty());
        }
    }
    assert_eq!(stock_of(&store, id).await, [stock("General", 200, 0, 0)]);
    assert!(store.orders_to_cascade(10).await.unwrap().is_empty());
    let rows = outbox_rows(&store).await;
    for o in pending.iter().chain(&paid) {
        let count = |subject: &str| rows.iter().filter(|r| **r == row(subject, o)).count();
        assert_eq!(count(subjects::ORDERS_CANCELLED), 1, "order {}", o.id);
        let confirmations = applied
            .iter()
            .filter(|(id, status)| *id == o.id && *status == OrderStatus::Confirmed)
            .count()
            + usize::from(paid.contains(o));
        assert_eq!(count(subjects::ORDERS_CONFIRMED), confirmations);
    }
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
    cancel(&store, b.id, CancelReason::UserCancelled, None).await;
    cancel(&store, b.id, CancelReason::Expired, None).await;
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
    refused(&store, &taken, BookResult::ReferenceTaken).await;
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
        cancel(&store, order_id, CancelReason::Expired, None).await;
    }
    expected.push(row(subjects::ORDERS_CREATED, &d));
    expected.push(row(subjects::ORDERS_CANCELLED, &d));
    assert_eq!(outbox_rows(&store).await, sorted(expected));
    assert_eq!(stock_of(&store, id).await, [stock("General", 5, 1, 0)]);
}

/// A scan of `code` at the door of `event_id`.
fn scan(event_id: Uuid, code: &str, nonce: &str, at: DateTime<Utc>, gate: &str) -> Scan {
    Scan {
        event_id,
        nonce: nonce.into(),
        target: ScanTarget::Code(code.into()),
        scanned_at: at,
        gate: Some(gate.into()),
        direction: ScanDirection::Entry,
        scanned_by: ORGANIZER,
        traceparent: Some(TP.into()),
    }
}

/// The store's answer to `scan`.
async fn checked_in(store: &Arc<dyn TicketStore>, scan: Scan) -> CheckinResponse {
    store.scan(&scan).await.unwrap().into_answer()
}

/// A published event with one paid order of `seats` General tickets; the event and the codes.
async fn paid_tickets(store: &Arc<dyn TicketStore>, seats: u32) -> (Uuid, Order, Vec<String>) {
    let id = published(store, &[("General", 100)]).await;
    let o = order(id, &[("General", seats)]);
    booked(store, &o).await;
    confirm(store, o.id, &attempt("completed"), Uuid::new_v4(), None).await;
    let codes = store_codes(store, o.id).await;
    (id, o, codes)
}

fn checked_in_rows(rows: &[(String, String)]) -> usize {
    rows.iter()
        .filter(|(subject, _)| subject == subjects::TICKETS_CHECKED_IN)
        .count()
}

async fn an_events_first_key_is_made_once_however_many_ask_at_once(store: Arc<dyn TicketStore>) {
    let id = Uuid::new_v4();
    assert!(store.event_keys(id).await.unwrap().is_empty());
    let asks = (0..16_u8).map(|i| {
        let store = store.clone();
        tokio::spawn(async move { store.ensure_event_key(id, [i; 32]).await.unwrap() })
    });
    let answers: Vec<Vec<StoredKey>> = futures::future::join_all(asks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let stored = store.event_keys(id).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].version, 1);
    assert!(
        answers.iter().all(|a| *a == stored),
        "every caller got the one stored key"
    );
    assert_eq!(store.ensure_event_key(id, [99; 32]).await.unwrap(), stored);
    assert!(store.event_keys(Uuid::new_v4()).await.unwrap().is_empty());
}

async fn an_events_staff_list_is_replaced_only_by_a_newer_version(store: Arc<dyn TicketStore>) {
    let id = Uuid::new_v4();
    assert!(store.event_staff(id).await.unwrap().is_empty());
    let list = |emails: &[&str]| emails.iter().map(|e| e.to_string()).collect::<Vec<_>>();
    assert!(
        store
            .apply_staff(id, 2, &list(&["a@x.org", "b@x.org"]))
            .await
            .unwrap()
    );
    assert!(
        !store
            .apply_staff(id, 1, &list(&["old@x.org"]))
            .await
            .unwrap()
    );
    assert!(
        !store
            .apply_staff(id, 2, &list(&["same@x.org"]))
            .await
            .unwrap()
    );
    assert_eq!(
        store.event_staff(id).await.unwrap(),
        list(&["a@x.org", "b@x.org"])
    );
    assert!(store.apply_staff(id, 3, &[]).await.unwrap());
    assert!(store.event_staff(id).await.unwrap().is_empty());
    assert!(store.event_staff(Uuid::new_v4()).await.unwrap().is_empty());
}

async fn a_scan_admits_a_paid_ticket_once_and_its_nonce_replays_the_first_answer(
    store: Arc<dyn TicketStore>,
) {
    let (id, o, codes) = paid_tickets(&store, 2).await;
    let t0 = now();
    let first = checked_in(&store, scan(id, &codes[0], "n1", t0, "North")).await;
    assert_eq!(first.result, CheckinResult::Ok);
    assert_eq!(first.code.as_deref(), Some(codes[0].as_str()));
    assert_eq!(first.holder_name, Some(o.customer.full_name()));
    assert_eq!(
        first.counter,
        CheckinCounter {
            checked_in: 1,
            sold: 2
        }
    );
    // The same nonce again: the first answer, not a second look.
    let replay = checked_in(
        &store,
        scan(id, &codes[0], "n1", t0 + Duration::seconds(5), "South"),
    )
    .await;
    assert_eq!(replay, first);
    let again = checked_in(
        &store,
        scan(id, &codes[0], "n2", t0 + Duration::seconds(5), "South"),
    )
    .await;
    assert_eq!(again.result, CheckinResult::AlreadyCheckedIn);
    let first_check_in = again.first_check_in.unwrap();
    assert_eq!(
        (first_check_in.at, first_check_in.gate.as_deref()),
        (t0, Some("North"))
    );

    // Out and back in: one more `ok` each, no new check-in counted.
    let mut out = scan(id, &codes[0], "n3", t0 + Duration::seconds(60), "North");
    out.direction = ScanDirection::Exit;
    assert_eq!(checked_in(&store, out).await.result, CheckinResult::Ok);
    let back = checked_in(
        &store,
        scan(id, &codes[0], "n4", t0 + Duration::seconds(90), "North"),
    )
    .await;
    assert_eq!(back.result, CheckinResult::Ok);
    assert_eq!(back.counter.checked_in, 1);

    // Unknown codes and answers decided before looking are stored with their nonce too.
    let unknown = checked_in(&store, scan(id, "NOPE-NOPE", "n5", t0, "North")).await;
    assert_eq!(
        (unknown.result, unknown.code),
        (CheckinResult::Invalid, None)
    );
    let mut forged = scan(id, &codes[1], "n6", t0, "North");
    forged.target = ScanTarget::Refused(CheckinResult::Invalid);
    assert_eq!(
        checked_in(&store, forged).await.result,
        CheckinResult::Invalid
    );
    // A ticket of this event scanned at another event's door.
    let elsewhere = checked_in(&store, scan(Uuid::new_v4(), &codes[1], "n7", t0, "North")).await;
    assert_eq!(elsewhere.result, CheckinResult::WrongEvent);

    let tickets = store.tickets_of_event(id).await.unwrap();
    let entered = tickets.iter().find(|t| t.code == codes[0]).unwrap();
    assert_eq!(
        entered.check_in,
        Some(TicketCheckin {
            first_at: t0,
            first_gate: Some("North".into()),
            inside: true
        })
    );
    assert_eq!(
        tickets
            .iter()
            .find(|t| t.code == codes[1])
            .unwrap()
            .check_in,
        None
    );
    let rows = outbox_rows(&store).await;
    assert_eq!(checked_in_rows(&rows), 3, "entry, exit, re-entry");
    assert!(rows.contains(&(subjects::TICKETS_CHECKED_IN.to_string(), id.to_string())));

    // A refunded order's tickets admit no one, checked in before or not.
    cancel(&store, o.id, CancelReason::BuyerRefund, None).await;
    let refused = checked_in(&store, scan(id, &codes[1], "n8", t0, "North")).await;
    assert_eq!(refused.result, CheckinResult::Cancelled);
    assert_eq!(refused.counter.sold, 0);
}

async fn scanners_racing_on_one_ticket_admit_it_exactly_once(store: Arc<dyn TicketStore>) {
    let (id, _, codes) = paid_tickets(&store, 1).await;
    let at = now();
    let scans = (0..24).map(|i| {
        let store = store.clone();
        let s = scan(
            id,
            &codes[0],
            &format!("race-{i}"),
            at,
            &format!("gate {i}"),
        );
        tokio::spawn(async move { store.scan(&s).await.unwrap().into_answer() })
    });
    let answers: Vec<_> = futures::future::join_all(scans)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let ok = answers
        .iter()
        .filter(|a| a.result == CheckinResult::Ok)
        .count();
    assert_eq!(ok, 1, "{answers:?}");
    assert!(answers.iter().all(|a| matches!(
        a.result,
        CheckinResult::Ok | CheckinResult::AlreadyCheckedIn
    )));
    assert_eq!(checked_in_rows(&outbox_rows(&store).await), 1);
}

async fn an_earlier_scan_uploaded_later_becomes_the_recorded_check_in(store: Arc<dyn TicketStore>) {
    let (id, _, codes) = paid_tickets(&store, 1).await;
    let t = now() - Duration::minutes(30);
    let later = checked_in(
        &store,
        scan(id, &codes[0], "south-1", t + Duration::minutes(5), "South"),
    )
    .await;
    assert_eq!(later.result, CheckinResult::Ok);
    let earlier = checked_in(&store, scan(id, &codes[0], "north-1", t, "North")).await;
    assert_eq!(earlier.result, CheckinResult::AlreadyCheckedIn);
    let first = earlier.first_check_in.unwrap();
    assert_eq!((first.at, first.gate.as_deref()), (t, Some("North")));
    // A still later scan leaves the earliest in place.
    checked_in(
        &store,
        scan(id, &codes[0], "west-1", t + Duration::minutes(9), "West"),
    )
    .await;
    let recorded = store.tickets_of_event(id).await.unwrap()[0]
        .check_in
        .clone()
        .unwrap();
    assert_eq!(
        (recorded.first_at, recorded.first_gate.as_deref()),
        (t, Some("North"))
    );
    assert_eq!(checked_in_rows(&outbox_rows(&store).await), 1);
}

platform::store_contract! {
    store: dyn TicketStore,
    sqlite: SqliteStore::in_memory(),
    mongodb: MongoStore::connect,
    runtime: (flavor = "multi_thread", worker_threads = 4),
    cases: [
        old_bookkeeping_is_purged_and_recent_bookkeeping_kept,
        a_cancelled_event_takes_no_booking_and_reserves_nothing,
        applying_an_event_creates_stock_and_a_newer_version_raises_capacity_but_never_lowers_it,
        booking_holds_seats_and_a_line_that_cannot_be_served_reserves_nothing,
        a_users_orders_are_listed_newest_first,
        concurrent_bookings_never_oversell,
        bookings_arriving_together_each_get_their_own_outcome_and_a_refused_one_holds_nothing,
        placing_a_booking_checks_its_key_drafts_on_the_stored_stock_and_books,
        a_duplicate_booking_reference_is_taken_and_reserves_nothing,
        an_idempotency_key_stores_its_response_and_a_second_booking_gets_it,
        confirming_sells_the_held_seats_and_issues_one_unique_ticket_per_seat_once,
        cancelling_releases_held_seats_exactly_once,
        payment_failures_are_counted_and_the_maximum_cancels_the_order,
        due_for_expiry_lists_only_pending_orders_past_their_hold,
        orders_to_cascade_lists_the_open_orders_of_cancelled_events_only,
        a_batch_ends_each_order_as_it_stands_in_one_unit,
        cancelling_a_paid_order_for_a_refund_releases_its_sold_seats_and_voids_its_tickets_once,
        the_refund_of_the_confirming_payment_marks_the_order_refunded_once,
        an_event_keeps_its_organizer_when_a_change_does_not_name_one,
        an_events_orders_are_paged_newest_first_and_found_by_status_name_email_or_reference,
        an_events_tickets_carry_their_holder_and_order_and_void_ones_stay_listed,
        an_events_sales_are_every_order_as_the_summary_counts_it,
        the_cascade_racing_payments_and_buyers_ends_each_order_exactly_once,
        every_state_change_leaves_exactly_one_matching_outbox_row,
        an_events_first_key_is_made_once_however_many_ask_at_once,
        an_events_staff_list_is_replaced_only_by_a_newer_version,
        a_scan_admits_a_paid_ticket_once_and_its_nonce_replays_the_first_answer,
        scanners_racing_on_one_ticket_admit_it_exactly_once,
        an_earlier_scan_uploaded_later_becomes_the_recorded_check_in,
        joining_needs_a_sold_out_type_and_a_buyer_has_one_open_entry_per_type,
        seats_an_order_gives_back_are_held_for_the_first_entries_that_fit_in_the_same_unit,
        an_accepted_offer_becomes_a_pending_order_holding_its_seats_once,
        a_declined_or_lapsed_offer_moves_on_to_the_next_entry,
        releases_racing_joins_and_lapses_never_oversell_nor_offer_a_seat_twice,
        with_the_waitlist_off_joining_is_refused_and_freed_seats_go_back_on_sale,
        the_open_entries_of_a_cancelled_event_close_once_and_its_seats_go_to_nobody,
        a_scan_is_decided_once_and_every_later_scan_with_its_nonce_is_a_replay,
    ],
}
