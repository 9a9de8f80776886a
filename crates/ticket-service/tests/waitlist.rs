//! The waitlist over real HTTP: seats freed by expiry and refunds are offered to the first
//! entries in join order, held for them and nobody else, an unanswered offer moves on, and the
//! seats are never oversold. The sweeps and the payment consumer are driven by the test, so
//! every step happens exactly when it says.

mod support;

use std::time::Duration;

use chrono::Utc;
use contracts::subjects;
use platform::testing::TestClient;
use serde_json::{Value, json};
use support::{World, book, id, short_hold};
use ticket_service::expiry::expire_due;
use ticket_service::lifecycle::Command;
use ticket_service::order::{AttemptStatus, PaymentAttempt};
use ticket_service::waitlist_steps::lapse_due;
use uuid::Uuid;

const OFFER_SECS: u64 = 3;

fn waitlist_path(event: Uuid) -> String {
    format!("/api/tickets/events/{event}/waitlist")
}

async fn join(client: &TestClient, event: Uuid, quantity: u32) -> Value {
    let res = client
        .post(
            &waitlist_path(event),
            &json!({"ticketType": "ga", "quantity": quantity}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    res.json()
}

/// The caller's one entry on the event.
async fn my_entry(client: &TestClient, event: Uuid) -> Value {
    let res = client.get(&waitlist_path(event)).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let entries = res.json()["entries"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 1, "{entries:?}");
    entries[0].clone()
}

/// Confirms the order as the payment consumer would on `payments.completed`.
async fn confirm(world: &World, order: &Value) {
    let attempt = PaymentAttempt {
        payment_id: Uuid::new_v4(),
        status: AttemptStatus::Completed,
        response_code: Some("approved".into()),
        response_message: None,
        at: platform::time::now(),
    };
    let order_id: Uuid = id(order).parse().unwrap();
    world
        .tickets
        .store
        .apply(
            order_id,
            &Command::Confirm(attempt),
            Some(Uuid::new_v4()),
            None,
        )
        .await
        .unwrap();
}

/// The entry ids of the `tickets.waitlist_offered` rows waiting in the outbox.
async fn offered_ids(world: &World) -> Vec<String> {
    let offers: Vec<contracts::tickets::WaitlistOffered> = ticket_service::testing::pending_facts(
        world.tickets.store.as_ref(),
        subjects::TICKETS_WAITLIST_OFFERED,
    )
    .await;
    offers
        .iter()
        .map(|o| o.place.entry_id.to_string())
        .collect()
}

async fn assert_never_oversold(world: &World, event: Uuid) -> (u64, u64, u64) {
    let seats = world.seats(event, "GA").await;
    assert!(seats.0 + seats.1 <= 5, "oversold: {seats:?}");
    assert_eq!(seats.0 + seats.1 + seats.2, 5, "{seats:?}");
    seats
}

#[tokio::test]
async fn freed_seats_go_to_the_first_entries_in_order_held_for_them_alone_and_a_lapsed_offer_moves_on()
 {
    let world = World::start_with(
        |c| ticket_service::TicketConfig {
            waitlist_offer: Duration::from_secs(OFFER_SECS),
            ..short_hold(c)
        },
        false,
    )
    .await;
    let (organizer, organizer_id) = world.user().await;
    let event = world.organized_event(
        organizer_id,
        Utc::now() + chrono::Duration::days(30),
        json!({"allowed": true, "untilHoursBefore": 24}),
        &[("GA", 2000, 5)],
    );

    // Sold out: three seats held by an order that will expire, two sold.
    let holder = world.buyer().await;
    let held = book(&holder, event, &[("GA", 3)]).await;
    assert_eq!(held.status, 201, "{}", held.text);
    let mut paid = Vec::new();
    for _ in 0..2 {
        let buyer = world.buyer().await;
        let order = book(&buyer, event, &[("GA", 1)]).await.json();
        confirm(&world, &order).await;
        paid.push(order);
    }
    assert_eq!(world.seats(event, "GA").await, (2, 3, 0));

    // Twenty buyers join in turn, each for one seat; joining again answers with the same entry.
    let mut line = Vec::new();
    for n in 1..=20 {
        let buyer = world.buyer().await;
        let entry = join(&buyer, event, 1).await;
        assert_eq!(entry["status"], "waiting");
        assert_eq!(entry["position"], n);
        line.push((buyer, entry));
    }
    let again = line[0]
        .0
        .post(
            &waitlist_path(event),
            &json!({"ticketType": "GA", "quantity": 1}),
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.json()["id"], line[0].1["id"]);

    // Three seats come back by expiry, two by refunds.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(expire_due(&world.tickets.app.state).await.unwrap(), 1);
    for order in &paid {
        let res = organizer
            .post(
                &format!("/api/tickets/orders/{}/refund", id(order)),
                &json!({"reason": "moved"}),
            )
            .await;
        assert_eq!(res.status, 202, "{}", res.text);
    }

    // Exactly five seats are offered, to the first five entries, and held for them.
    let first_five: Vec<String> = line[..5]
        .iter()
        .map(|(_, e)| e["id"].as_str().unwrap().to_string())
        .collect();
    let mut offered = offered_ids(&world).await;
    offered.sort();
    let mut expected = first_five.clone();
    expected.sort();
    assert_eq!(offered, expected);
    assert_eq!(assert_never_oversold(&world, event).await, (0, 5, 0));
    for (n, (buyer, _)) in line.iter().enumerate() {
        let entry = my_entry(buyer, event).await;
        if n < 5 {
            assert_eq!(entry["status"], "offered", "entry {n}");
            assert!(entry["offerExpiresAt"].is_string());
        } else {
            assert_eq!(entry["status"], "waiting", "entry {n}");
            assert_eq!(entry["position"], n as u64 - 4);
        }
    }

    // Nobody else can book them, nor can a later entry accept.
    let stranger = world.buyer().await;
    let res = book(&stranger, event, &[("GA", 1)]).await;
    assert_eq!(
        (res.status, res.code().as_str()),
        (409, "sold_out"),
        "{}",
        res.text
    );
    let sixth = line[5].1["id"].as_str().unwrap();
    let res = line[5]
        .0
        .post(&format!("/api/tickets/waitlist/{sixth}/accept"), &json!({}))
        .await;
    assert_eq!(
        (res.status, res.code().as_str()),
        (409, "no_offer"),
        "{}",
        res.text
    );
    // Someone else's offer does not exist for the stranger.
    let res = stranger
        .post(
            &format!("/api/tickets/waitlist/{}/accept", first_five[0]),
            &json!({}),
        )
        .await;
    assert_eq!(res.status, 404, "{}", res.text);

    // Four accept: each gets a pending order of the offered seat; the fifth lets it run out.
    for (buyer, entry) in &line[..4] {
        let entry_id = entry["id"].as_str().unwrap();
        let res = buyer
            .post(
                &format!("/api/tickets/waitlist/{entry_id}/accept"),
                &json!({}),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text);
        let order = res.json();
        assert_eq!(order["order"]["status"], "pending");
        assert_eq!(order["order"]["tickets"][0]["quantity"], 1);
        let entry = my_entry(buyer, event).await;
        assert_eq!(entry["status"], "accepted");
        assert_eq!(entry["orderId"], order["orderId"]);
    }
    assert_eq!(assert_never_oversold(&world, event).await, (0, 5, 0));

    tokio::time::sleep(Duration::from_secs(OFFER_SECS) + Duration::from_millis(100)).await;
    assert_eq!(lapse_due(&world.tickets.app.state).await.unwrap(), 1);
    assert_eq!(my_entry(&line[4].0, event).await["status"], "lapsed");
    assert_eq!(my_entry(&line[5].0, event).await["status"], "offered");
    assert_eq!(my_entry(&line[6].0, event).await["position"], 1);
    assert_eq!(offered_ids(&world).await.len(), 6);
    assert_eq!(assert_never_oversold(&world, event).await, (0, 5, 0));

    // The organizer sees the line: fourteen waiting, one offer out.
    let res = organizer
        .get(&format!("/api/tickets/events/{event}/waitlist/lengths"))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(
        res.json()["ticketTypes"],
        json!([{"ticketType": "GA", "waiting": 14, "waitingSeats": 14, "offered": 1}])
    );

    // The sixth declines: the seat goes to the seventh. The seventh leaves: on to the eighth.
    let res = line[5]
        .0
        .post(
            &format!("/api/tickets/waitlist/{sixth}/decline"),
            &json!({}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.json()["status"], "declined");
    assert_eq!(my_entry(&line[6].0, event).await["status"], "offered");
    let leaver = &line[6].0;
    let res = leaver
        .send(leaver.http.delete(leaver.url(&waitlist_path(event))))
        .await;
    assert_eq!(res.status, 204, "{}", res.text);
    assert_eq!(my_entry(&line[6].0, event).await["status"], "left");
    assert_eq!(my_entry(&line[7].0, event).await["status"], "offered");
    assert_eq!(assert_never_oversold(&world, event).await, (0, 5, 0));
}

#[tokio::test]
async fn joining_is_for_signed_in_buyers_of_a_type_that_cannot_serve_them() {
    let world = World::start_with(|c| c, false).await;
    let event = world.event(&[("GA", 1000, 2)]);
    let anonymous = TestClient::new(world.tickets.url());
    let body = json!({"ticketType": "GA", "quantity": 1});
    assert_eq!(
        anonymous.post(&waitlist_path(event), &body).await.status,
        401
    );

    let buyer = world.buyer().await;
    let res = buyer.post(&waitlist_path(event), &body).await;
    assert_eq!(
        (res.status, res.code().as_str()),
        (409, "not_sold_out"),
        "{}",
        res.text
    );
    // Three do not fit in two: that buyer may wait.
    let res = buyer
        .post(
            &waitlist_path(event),
            &json!({"ticketType": "GA", "quantity": 3}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);

    let res = buyer
        .post(
            &waitlist_path(event),
            &json!({"ticketType": "Balcony", "quantity": 0}),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text);
    let fields = &res.json()["error"]["fields"];
    assert!(
        fields["ticketType"].is_array() && fields["quantity"].is_array(),
        "{fields}"
    );
    let res = buyer.post(&waitlist_path(Uuid::new_v4()), &body).await;
    assert_eq!(res.status, 404, "{}", res.text);
    let res = buyer
        .post("/api/tickets/waitlist/not-an-id/accept", &json!({}))
        .await;
    assert_eq!(
        (res.status, res.code().as_str()),
        (404, "waitlist_entry_not_found")
    );
}

#[tokio::test]
async fn every_waitlist_route_is_401_anonymous_an_entry_is_its_buyers_alone_and_the_lengths_the_organizers_and_admins()
 {
    let world = World::start_with(|c| c, false).await;
    let (organizer, organizer_id) = world.user().await;
    let event = world.organized_event(
        organizer_id,
        Utc::now() + chrono::Duration::days(30),
        json!({"allowed": false, "untilHoursBefore": 0}),
        &[("GA", 1000, 1)],
    );
    let seller = world.buyer().await;
    assert_eq!(book(&seller, event, &[("GA", 1)]).await.status, 201);
    let buyer = world.buyer().await;
    let entry = join(&buyer, event, 1).await;
    let entry_id = entry["id"].as_str().unwrap();
    let accept = format!("/api/tickets/waitlist/{entry_id}/accept");
    let decline = format!("/api/tickets/waitlist/{entry_id}/decline");
    let lengths = format!("/api/tickets/events/{event}/waitlist/lengths");

    let anonymous = TestClient::new(world.tickets.url());
    let body = json!({"ticketType": "GA", "quantity": 1});
    for res in [
        anonymous.post(&waitlist_path(event), &body).await,
        anonymous.get(&waitlist_path(event)).await,
        anonymous
            .send(anonymous.http.delete(anonymous.url(&waitlist_path(event))))
            .await,
        anonymous.post(&accept, &json!({})).await,
        anonymous.post(&decline, &json!({})).await,
        anonymous.get(&lengths).await,
    ] {
        assert_eq!(res.status, 401, "{}", res.text);
    }

    // Another buyer, another organizer and an admin: someone else's entry does not exist.
    let (other_organizer, _) = world.user().await;
    let admin = world.admin().await;
    for client in [world.buyer().await, other_organizer.clone(), admin.clone()] {
        for path in [&accept, &decline] {
            let res = client.post(path, &json!({})).await;
            assert_eq!(
                (res.status, res.code().as_str()),
                (404, "waitlist_entry_not_found"),
                "{}",
                res.text
            );
        }
        // Their own view of the event's waitlists is empty.
        let res = client.get(&waitlist_path(event)).await;
        assert_eq!(res.json()["entries"], json!([]));
    }
    // The entry's buyer reaches it: no offer yet.
    let res = buyer.post(&accept, &json!({})).await;
    assert_eq!((res.status, res.code().as_str()), (409, "no_offer"));

    // The lengths: 404 to buyers and other organizers, open to the organizer and an admin.
    for client in [&buyer, &other_organizer] {
        let res = client.get(&lengths).await;
        assert_eq!((res.status, res.code().as_str()), (404, "event_not_found"));
    }
    for client in [&organizer, &admin] {
        let res = client.get(&lengths).await;
        assert_eq!(res.status, 200, "{}", res.text);
        assert_eq!(res.json()["ticketTypes"][0]["waiting"], 1);
    }
}

/// Publishes `catalog.events.updated` for `event`: two GA seats, its waitlist switched as
/// `enabled`.
async fn switch_waitlist(world: &World, event: Uuid, version: u64, enabled: bool) {
    let fact = json!({
        "eventId": event, "version": version, "title": "Switched", "category": "Music",
        "venue": {"name": "Hall", "city": "Lisbon", "capacity": 100},
        "dateTime": Utc::now() + chrono::Duration::days(30), "duration": 120,
        "ticketTypes": [{"name": "GA", "price": {"minorUnits": 1000, "decimal": "10.00", "currency": "USD"}, "quantity": 2}],
        "createdBy": Uuid::new_v4(), "waitlistEnabled": enabled,
    });
    world
        .publish(subjects::CATALOG_EVENT_UPDATED, event, fact)
        .await;
}

/// The buyer cancels their pending order.
async fn cancel(client: &TestClient, order: &Value) {
    let res = support::cancel(client, &id(order)).await;
    assert_eq!(res.status, 200, "{}", res.text);
}

#[tokio::test]
async fn with_the_waitlist_turned_off_joining_answers_409_and_freed_seats_go_back_on_sale() {
    // With its consumers running: the switch arrives as a catalogue fact.
    let world = World::start().await;
    let event = world.event(&[("GA", 1000, 2)]);
    let holder = world.buyer().await;
    let held = book(&holder, event, &[("GA", 2)]).await;
    assert_eq!(held.status, 201, "{}", held.text);
    let early = world.buyer().await;
    join(&early, event, 1).await;

    switch_waitlist(&world, event, 2, false).await;
    // Asked before the switch arrives, joining would succeed, and an entry already in line is
    // answered as it stands: wait for the switch, then ask once.
    platform::testing::eventually("the waitlist to be off", || async {
        let stock = world.tickets.store.event_stock(event).await.unwrap()?;
        (!stock.event.waitlist_enabled).then_some(())
    })
    .await;
    let late = world.buyer().await;
    let body = json!({"ticketType": "GA", "quantity": 1});
    let res = late.post(&waitlist_path(event), &body).await;
    assert_eq!(
        (res.status, res.code().as_str()),
        (409, "waitlist_off"),
        "{}",
        res.text
    );

    // The held seats come back: on sale for anyone, none offered; the early entry keeps its place.
    cancel(&holder, &held.json()).await;
    assert_eq!(world.seats(event, "GA").await, (0, 0, 2));
    let entry = my_entry(&early, event).await;
    assert_eq!(
        (entry["status"].as_str(), entry["position"].as_u64()),
        (Some("waiting"), Some(1))
    );
    let res = book(&late, event, &[("GA", 2)]).await;
    assert_eq!(res.status, 201, "{}", res.text);

    // Back on: the next seats that come free are offered to the early entry.
    switch_waitlist(&world, event, 3, true).await;
    let other = world.buyer().await;
    platform::testing::eventually("joining is open again", || async {
        let res = other.post(&waitlist_path(event), &body).await;
        (res.status == 201).then_some(())
    })
    .await;
    cancel(&late, &res.json()).await;
    assert_eq!(my_entry(&early, event).await["status"], "offered");
    assert_eq!(world.seats(event, "GA").await, (0, 2, 0));
}

#[tokio::test]
async fn when_the_event_is_cancelled_its_waitlist_entries_end_and_an_offer_out_is_withdrawn_once() {
    // With its consumers and the cancellation cascade running.
    let world = World::start().await;
    let event = world.event(&[("GA", 1000, 2)]);
    let (first, second) = (world.buyer().await, world.buyer().await);
    let freed = book(&first, event, &[("GA", 1)]).await;
    assert_eq!(freed.status, 201, "{}", freed.text);
    assert_eq!(book(&second, event, &[("GA", 1)]).await.status, 201);
    let mut line = Vec::new();
    for _ in 0..3 {
        let buyer = world.buyer().await;
        join(&buyer, event, 1).await;
        line.push(buyer);
    }
    cancel(&first, &freed.json()).await;
    let offer = my_entry(&line[0], event).await;
    assert_eq!(offer["status"], "offered");

    // The catalogue cancels the event; the fact arrives twice (a redelivery under another id).
    let cancelled = contracts::Envelope::new(
        subjects::CATALOG_EVENT_CANCELLED,
        "test",
        Some(event.to_string()),
        ticket_service::testing::event_cancelled(event, 2),
    );
    world
        .publish_envelope(&cancelled, &cancelled.id.to_string())
        .await;
    world
        .publish_envelope(&cancelled, &Uuid::new_v4().to_string())
        .await;

    // Every entry ends as `event_cancelled`, the offered one too; every seat is back and none
    // is offered again.
    for buyer in &line {
        platform::testing::eventually("the entry to end with its event", || async {
            let entry = my_entry(buyer, event).await;
            (entry["status"] == "event_cancelled").then_some(entry)
        })
        .await;
    }
    platform::testing::eventually("every seat to come back", || async {
        (world.seats(event, "GA").await == (0, 0, 2)).then_some(())
    })
    .await;
    let entry = my_entry(&line[0], event).await;
    assert_eq!(
        (&entry["position"], &entry["offerExpiresAt"]),
        (&Value::Null, &offer["offerExpiresAt"]),
        "the offer's time stays for the record"
    );
    // The offer is gone: neither accepted nor declined, and the answer says why.
    let offer_id = offer["id"].as_str().unwrap();
    for (action, code) in [("accept", "event_not_bookable"), ("decline", "no_offer")] {
        let path = format!("/api/tickets/waitlist/{offer_id}/{action}");
        let res = line[0].post(&path, &json!({})).await;
        assert_eq!(
            (res.status, res.code().as_str()),
            (409, code),
            "{}",
            res.text
        );
        assert!(res.text.contains("cancelled"), "{}", res.text);
    }
    let res = line[1]
        .post(
            &waitlist_path(event),
            &json!({"ticketType": "GA", "quantity": 1}),
        )
        .await;
    assert_eq!(res.status, 409, "{}", res.text);

    // One offer was ever made, and the cascade finds nothing left to close.
    platform::testing::eventually("the outbox to be relayed", || async {
        let pending = world.tickets.store.outbox().pending(1).await.unwrap();
        pending.is_empty().then_some(())
    })
    .await;
    let published = platform::testing::stream_events(&world.js, "TICKETS").await;
    let offers = published
        .iter()
        .filter(|e| e.subject == subjects::TICKETS_WAITLIST_OFFERED)
        .count();
    assert_eq!(offers, 1);
    // Each entry's buyer is told once that it closed, the one who held the offer that it is
    // withdrawn, however often the cancellation arrived.
    let mut closed: Vec<(String, bool)> = published
        .iter()
        .filter(|e| e.subject == subjects::TICKETS_WAITLIST_CLOSED)
        .map(|e| {
            let data = &e.envelope["data"];
            assert_eq!(e.envelope["subject"], data["entryId"]);
            (
                data["entryId"].as_str().unwrap().to_string(),
                data["heldOffer"].as_bool().unwrap(),
            )
        })
        .collect();
    closed.sort();
    let mut expected = Vec::new();
    for buyer in &line {
        let entry = my_entry(buyer, event).await;
        let id = entry["id"].as_str().unwrap().to_string();
        expected.push((id, entry["id"] == offer["id"]));
    }
    expected.sort();
    assert_eq!(closed, expected);
    assert!(
        world
            .tickets
            .store
            .entries_to_close(10)
            .await
            .unwrap()
            .is_empty()
    );
}
