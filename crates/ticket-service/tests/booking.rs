//! Booking over real HTTP: holds, all-or-nothing, a flash sale, idempotency, cancel, bad input.

mod support;

use chrono::Utc;
use platform::testing::{TestClient, wait_for_events, wait_for_facts};
use serde::Serialize;
use serde_json::{Value, json};
use support::{World, book, cancel, id};
use uuid::Uuid;

#[tokio::test]
async fn a_booking_holds_seats_prices_from_the_catalogue_and_publishes_orders_created() {
    let world = World::start().await;
    let event = world.event(&[("General", 2550, 100), ("VIP", 9999, 10)]);
    let buyer = world.buyer().await;

    let res = book(&buyer, event, &[("general", 2), ("VIP", 1)]).await;
    assert_eq!(res.status, 201, "{}", res.text);
    let b = res.json();
    assert_eq!(b["status"], "pending");
    assert_eq!(b["totalAmount"], json!(150.99));
    assert_eq!(b["totalAmountMinor"], 15099);
    assert_eq!(b["currency"], "USD");
    assert_eq!(b["tickets"][0]["ticketType"]["name"], "General");
    assert_eq!(b["tickets"][0]["subtotal"], json!(51));
    let reference = b["bookingReference"].as_str().unwrap();
    assert!(reference.starts_with("TK-") && reference.len() == 11);
    let expires: chrono::DateTime<Utc> = b["expiresAt"].as_str().unwrap().parse().unwrap();
    let hold = expires - Utc::now();
    assert!(hold > chrono::Duration::minutes(14) && hold <= chrono::Duration::minutes(15));

    assert_eq!(world.seats(event, "General").await, (0, 2, 98));
    assert_eq!(world.seats(event, "VIP").await, (0, 1, 9));

    let order_id = b["orderId"].as_str().unwrap().to_string();
    let events = wait_for_events(&world.js, "ORDERS", |e| !e.is_empty()).await;
    let created = &events[0];
    assert_eq!(created.subject, "orders.created");
    assert_eq!(created.envelope["type"], "orders.created");
    assert_eq!(created.envelope["source"], "ticket-service");
    assert_eq!(created.envelope["subject"], order_id.as_str());
    assert_eq!(created.msg_id.as_deref(), created.envelope["id"].as_str());
    assert!(
        created
            .traceparent
            .as_deref()
            .is_some_and(|t| t.starts_with("00-"))
    );
    assert_eq!(created.envelope["data"]["totalAmount"]["minorUnits"], 15099);
    assert_eq!(created.envelope["data"]["lines"][1]["quantity"], 1);
}

#[tokio::test]
async fn a_flash_sale_of_50_seats_to_200_concurrent_buyers_sells_exactly_50() {
    let world = World::start().await;
    let event = world.event(&[("Floor", 4000, 50)]);
    let mut buyers = Vec::new();
    for _ in 0..200 {
        buyers.push(world.buyer().await);
    }
    let attempts = buyers
        .into_iter()
        .map(|b| tokio::spawn(async move { book(&b, event, &[("Floor", 1)]).await }))
        // Spawn every buyer before awaiting any: they must really run at once.
        .collect::<Vec<_>>();
    let mut created = 0;
    let mut sold_out = 0;
    for a in attempts {
        let res = a.await.unwrap();
        match res.status {
            201 => created += 1,
            409 => {
                assert_eq!(res.code(), "sold_out");
                sold_out += 1;
            }
            other => panic!("unexpected {other}: {}", res.text),
        }
    }
    assert_eq!((created, sold_out), (50, 150));
    let (sold, held, available) = world.seats(event, "Floor").await;
    assert_eq!((sold, held, available), (0, 50, 0));
}

#[tokio::test]
async fn a_multi_line_order_whose_last_line_cannot_be_served_reserves_nothing() {
    let world = World::start().await;
    let event = world.event(&[("A", 1000, 10), ("B", 1000, 2)]);
    let buyer = world.buyer().await;
    let res = book(&buyer, event, &[("A", 5), ("B", 3)]).await;
    assert_eq!(res.status, 409);
    assert_eq!(res.code(), "sold_out");
    let err = res.json();
    assert_eq!(err["error"]["fields"]["ticketType"][0], "B");
    assert_eq!(err["error"]["fields"]["available"][0], "2");
    assert_eq!(world.seats(event, "A").await, (0, 0, 10));
    assert_eq!(world.seats(event, "B").await, (0, 0, 2));
}

#[tokio::test]
async fn the_same_idempotency_key_books_once_and_replays_the_first_answer() {
    let world = World::start().await;
    let event = world.event(&[("GA", 500, 10)]);
    let buyer = world.buyer().await;
    let body = json!({"eventId": event, "tickets": [{"ticketType": "GA", "quantity": 2}]});
    let send = |b: Value| {
        let buyer = buyer.clone();
        async move {
            buyer
                .request(reqwest::Method::POST, "/api/tickets/book", |r| {
                    r.header("Idempotency-Key", "click-1").json(&b)
                })
                .await
        }
    };
    let (first, second) = tokio::join!(send(body.clone()), send(body.clone()));
    assert_eq!(first.status, 201, "{}", first.text);
    assert_eq!(second.status, 201, "{}", second.text);
    assert_eq!(first.json()["orderId"], second.json()["orderId"]);
    assert_eq!(world.seats(event, "GA").await, (0, 2, 8));
    let orders = buyer.get("/api/tickets/orders").await.json();
    assert_eq!(orders["total"], 1);

    let other =
        send(json!({"eventId": event, "tickets": [{"ticketType": "GA", "quantity": 3}]})).await;
    assert_eq!(other.status, 422);
    assert_eq!(other.code(), "idempotency_key_reused");
}

#[tokio::test]
async fn a_malformed_idempotency_key_is_refused_as_every_service_refuses_it_and_books_nothing() {
    let world = World::start().await;
    let event = world.event(&[("GA", 500, 10)]);
    let buyer = world.buyer().await;
    let body = json!({"eventId": event, "tickets": [{"ticketType": "GA", "quantity": 1}]});
    let too_long = "k".repeat(256);
    for (key, message) in [
        (
            "click 1",
            "The Idempotency-Key must be visible ASCII characters.",
        ),
        (
            too_long.as_str(),
            "The Idempotency-Key must be 1 to 255 characters.",
        ),
    ] {
        let res = buyer
            .request(reqwest::Method::POST, "/api/tickets/book", |r| {
                r.header("Idempotency-Key", key).json(&body)
            })
            .await;
        assert_eq!(
            (res.status, res.code().as_str()),
            (400, "invalid_idempotency_key"),
            "{}",
            res.text
        );
        assert_eq!(res.json()["error"]["message"], message);
    }
    assert_eq!(world.seats(event, "GA").await, (0, 0, 10));
    assert_eq!(buyer.get("/api/tickets/orders").await.json()["total"], 0);
}

#[tokio::test]
async fn the_owner_cancels_a_pending_order_and_its_seats_come_back_once() {
    let world = World::start().await;
    let (event, buyer, order) = world.pending_order(&[("GA", 500, 10)], &[("GA", 4)]).await;
    let order_id = id(&order);

    let stranger = world.buyer().await;
    assert_eq!(
        stranger
            .get(&format!("/api/tickets/orders/{order_id}"))
            .await
            .status,
        404
    );
    let theirs = cancel(&stranger, &order_id).await;
    assert_eq!(theirs.status, 404);

    let res = cancel(&buyer, &order_id).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.json()["order"]["status"], "cancelled");
    assert_eq!(res.json()["order"]["cancelReason"], "user_cancelled");
    assert_eq!(world.seats(event, "GA").await, (0, 0, 10));

    let again = cancel(&buyer, &order_id).await;
    assert_eq!(
        (again.status, again.code().as_str()),
        (409, "order_not_pending")
    );
    assert_eq!(world.seats(event, "GA").await, (0, 0, 10));

    let cancelled = wait_for_facts(&world.js, "ORDERS", "orders.cancelled").await;
    assert_eq!(cancelled.len(), 1);
    assert_eq!(cancelled[0].envelope["data"]["reason"], "user_cancelled");
}

#[tokio::test]
async fn my_orders_lists_the_callers_orders_newest_first_with_the_event() {
    let world = World::start().await;
    let event = world.event(&[("GA", 500, 10)]);
    let buyer = world.buyer().await;
    let first = book(&buyer, event, &[("GA", 1)]).await.json()["orderId"].clone();
    let second = book(&buyer, event, &[("GA", 2)]).await.json()["orderId"].clone();
    book(&world.buyer().await, event, &[("GA", 1)]).await;

    let list = buyer.get("/api/tickets/orders").await.json();
    assert_eq!(list["total"], 2);
    assert_eq!(list["orders"][0]["id"], second);
    assert_eq!(list["orders"][1]["id"], first);
    assert_eq!(
        list["orders"][0]["event"]["title"],
        format!("Event {event}")
    );
    assert!(list["orders"][0]["event"]["dateTime"].is_string());
}

/// A booking body of one line: `quantity` seats of `ticket_type` at `event`.
fn one_line(event: impl Serialize, ticket_type: &str, quantity: impl Serialize) -> Value {
    json!({"eventId": event, "tickets": [{"ticketType": ticket_type, "quantity": quantity}]})
}

#[tokio::test]
async fn every_bad_booking_gets_its_status_and_code() {
    let world = World::start().await;
    let event = world.event(&[("GA", 500, 100)]);
    let draft = world.event_at(
        "draft",
        Utc::now() + chrono::Duration::days(3),
        &[("GA", 500, 10)],
    );
    let past = world.event_at(
        "published",
        Utc::now() - chrono::Duration::hours(1),
        &[("GA", 500, 10)],
    );
    let cancelled = world.event_at(
        "cancelled",
        Utc::now() + chrono::Duration::days(3),
        &[("GA", 500, 10)],
    );
    let buyer = world.buyer().await;

    let anonymous = TestClient::new(world.tickets.url());
    let res = book(&anonymous, event, &[("GA", 1)]).await;
    assert_eq!((res.status, res.code().as_str()), (401, "unauthorized"));

    let refused = |status, code| (status, code, None);
    let invalid = |field| (422, "validation_failed", Some(field));
    let cases = [
        (
            one_line(Uuid::new_v4(), "GA", 1),
            refused(404, "event_not_found"),
        ),
        (one_line(draft, "GA", 1), refused(404, "event_not_found")),
        (one_line(past, "GA", 1), refused(409, "event_not_bookable")),
        (
            one_line(cancelled, "GA", 1),
            refused(409, "event_not_bookable"),
        ),
        (
            one_line(event, "Balcony", 1),
            invalid("tickets[0].ticketType"),
        ),
        (one_line(event, "GA", 0), invalid("tickets[0].quantity")),
        (one_line(event, "GA", 11), invalid("tickets[0].quantity")),
        (one_line(event, "GA", -2), invalid("tickets[0].quantity")),
        (json!({"eventId": event, "tickets": []}), invalid("tickets")),
        (
            json!({"eventId": event, "tickets": [{"ticketType": "GA", "quantity": 6}, {"ticketType": "ga", "quantity": 5}]}),
            invalid("tickets[1].ticketType"),
        ),
        (one_line("not-a-uuid", "GA", 1), invalid("eventId")),
        (
            json!({"eventId": event, "tickets": [{"ticketType": "GA", "quantity": 1}], "customerInfo": {"email": "nope"}}),
            invalid("customerInfo.email"),
        ),
        (one_line(event, "GA", "two"), refused(422, "invalid_body")),
    ];
    for (body, (status, code, field)) in cases {
        let res = buyer.post("/api/tickets/book", &body).await;
        assert_eq!(
            (res.status, res.code().as_str()),
            (status, code),
            "{body}: {}",
            res.text
        );
        if let Some(field) = field {
            assert!(
                res.json()["error"]["fields"][field].is_array(),
                "{field} missing in {}",
                res.text
            );
        }
    }
    let eleven = buyer
        .post(
            "/api/tickets/book",
            &json!({"eventId": event, "tickets": [{"ticketType": "GA", "quantity": 6}], "x": 1}),
        )
        .await;
    assert_eq!(
        eleven.status, 201,
        "unknown fields are ignored: {}",
        eleven.text
    );

    for path in [
        "/api/tickets/orders/not-an-id",
        &format!("/api/tickets/orders/{}", Uuid::new_v4()),
    ] {
        let res = buyer.get(path).await;
        assert_eq!(
            (res.status, res.code().as_str()),
            (404, "order_not_found"),
            "{path}"
        );
    }
    let res = TestClient::new(world.tickets.url())
        .get("/api/tickets/events/nope/availability")
        .await;
    assert_eq!(res.status, 404);
    assert_eq!(
        world.seats(event, "GA").await,
        (0, 6, 94),
        "no failed attempt held a seat"
    );
}

#[tokio::test]
async fn customer_info_defaults_to_the_signed_in_user() {
    let world = World::start().await;
    let (_, _, b) = world.pending_order(&[("GA", 500, 10)], &[("GA", 1)]).await;
    assert_eq!(b["order"]["customerInfo"]["firstName"], "Bo");
    assert_eq!(b["order"]["customerInfo"]["lastName"], "Buyer");
    assert!(
        b["order"]["customerInfo"]["email"]
            .as_str()
            .unwrap()
            .ends_with("@example.com")
    );
}
