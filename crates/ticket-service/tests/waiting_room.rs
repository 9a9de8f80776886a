//! The waiting room of an on-sale: fair places for early arrivals, admission at the configured
//! rate, booking only with an unused pass, and places that survive a restart (real nats-server).

mod support;

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use contracts::subjects;
use futures::future::join_all;
use platform::testing::{TestClient, TestResponse, eventually};
use serde_json::{Value, json};
use support::{SseReader, World, assert_event_stream, book};
use ticket_service::store::EventStatus;
use ticket_service::testing::{TicketHarness, event_cancelled};
use ticket_service::waiting_room::WaitingRoom;
use ticket_service::waiting_room::bucket::Bucket;
use uuid::Uuid;

fn queue_path(event: Uuid) -> String {
    format!("/api/tickets/events/{event}/queue")
}

async fn join(client: &TestClient, event: Uuid) -> Value {
    let res = client.post(&queue_path(event), &json!({})).await;
    assert_eq!(res.status, 200, "{}", res.text);
    res.json()
}

async fn place(client: &TestClient, event: Uuid) -> Value {
    let res = client.get(&queue_path(event)).await;
    assert_eq!(res.status, 200, "{}", res.text);
    res.json()
}

/// The same request against another ticket service (the session cookie is the same host's).
async fn place_at(base: &str, client: &TestClient, event: Uuid) -> Value {
    let res = client
        .send(client.http.get(format!("{base}{}", queue_path(event))))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    res.json()
}

async fn book_with(client: &TestClient, event: Uuid, pass: Option<&str>) -> TestResponse {
    let mut req = client
        .http
        .post(client.url("/api/tickets/book"))
        .json(&json!({
            "eventId": event, "tickets": [{"ticketType": "GA", "quantity": 1}]
        }));
    if let Some(pass) = pass {
        req = req.header("Queue-Pass", pass);
    }
    client.send(req).await
}

async fn users(world: &World, n: usize) -> Vec<TestClient> {
    join_all((0..n).map(|_| world.buyer())).await
}

/// Sleeps until the early places are drawn (a little after `onSaleAt`).
async fn until_drawn(on_sale_at: DateTime<Utc>) {
    let drawn = on_sale_at + chrono::Duration::milliseconds(2_100);
    if let Ok(wait) = (drawn - Utc::now()).to_std() {
        tokio::time::sleep(wait).await;
    }
}

fn positions(places: &[Value]) -> Vec<u64> {
    places
        .iter()
        .map(|p| p["position"].as_u64().expect("a position"))
        .collect()
}

#[tokio::test]
async fn five_hundred_visitors_arriving_at_once_before_the_sale_get_places_1_to_500() {
    let world = World::start().await;
    let visitors = users(&world, 500).await;
    let on_sale_at = Utc::now() + chrono::Duration::seconds(8);
    let event = world.event_on_sale_at(on_sale_at, Some(60), &[("GA", 1000, 100)]);

    // Everyone at once, and a tenth of them twice more (a refresh-happy visitor).
    let joins = visitors
        .iter()
        .chain(visitors.iter().step_by(10))
        .chain(visitors.iter().step_by(10));
    let joined = join_all(joins.map(|v| join(v, event))).await;
    assert!(
        Utc::now() < on_sale_at,
        "the joins took too long for this test"
    );
    assert!(
        joined
            .iter()
            .all(|j| j["position"].is_null() && !j["admitted"].as_bool().unwrap())
    );
    assert_eq!(place(&visitors[0], event).await["position"], Value::Null);

    until_drawn(on_sale_at).await;
    let places = join_all(visitors.iter().map(|v| place(v, event))).await;
    let mut sorted = positions(&places);
    sorted.sort_unstable();
    assert_eq!(sorted, (1..=500).collect::<Vec<u64>>());
    // Joining again returned the entry of the first join.
    for (i, v) in visitors.iter().enumerate().step_by(10) {
        let again = join(v, event).await;
        assert_eq!(again["position"], places[i]["position"]);
        assert_eq!(again["joinedAt"], places[i]["joinedAt"]);
    }
    // The draw is not the order of arrival: joined first is not placed first.
    let in_arrival_order = positions(&places);
    assert_ne!(
        in_arrival_order, sorted,
        "places equal the order of the requests"
    );
    println!(
        "500 early arrivals: first five places by request order {:?}",
        &in_arrival_order[..5]
    );
}

#[tokio::test]
async fn visitors_are_admitted_in_order_of_their_places_at_the_configured_rate() {
    let world = World::start().await;
    let early = users(&world, 20).await;
    let on_sale_at = Utc::now() + chrono::Duration::seconds(2);
    // 120 a minute: one every half second.
    let event = world.event_on_sale_at(on_sale_at, Some(120), &[("GA", 1000, 100)]);
    join_all(early.iter().map(|v| join(v, event))).await;
    until_drawn(on_sale_at).await;

    // A late arrival queues behind every early one.
    let late = world.buyer().await;
    assert_eq!(join(&late, event).await["position"], 21);

    for _ in 0..3 {
        let asked_at = Utc::now();
        let places = join_all(early.iter().map(|v| place(v, event))).await;
        let answered_at = Utc::now();
        let expected =
            |at: DateTime<Utc>| (at - on_sale_at).num_milliseconds() as f64 * 120.0 / 60_000.0;
        for p in &places {
            let position = p["position"].as_u64().unwrap();
            let so_far = p["admittedSoFar"].as_u64().unwrap();
            // Admission follows the place: exactly the places up to the count are in.
            assert_eq!(p["admitted"], position <= so_far, "{p}");
            assert_eq!(p["pass"].is_string(), position <= so_far, "{p}");
            // The count follows the rate, within one place of the clock on either side.
            let (low, high) = (
                expected(asked_at).floor() - 1.0,
                expected(answered_at).ceil() + 1.0,
            );
            assert!(
                (low..=high).contains(&(so_far as f64)),
                "{so_far} not in {low}..{high}"
            );
            // The estimate counts down to the moment the place is reached.
            let wait = p["estimatedWaitSecs"].as_u64().unwrap();
            if position > so_far {
                let due = (position as f64 * 0.5)
                    - (answered_at - on_sale_at).num_milliseconds() as f64 / 1000.0;
                assert!(
                    (wait as f64 - due).abs() <= 2.0,
                    "{p}: wait {wait}, due {due}"
                );
            } else {
                assert_eq!(wait, 0);
            }
        }
        let admitted = places.iter().filter(|p| p["admitted"] == true).count();
        println!(
            "{:.1} s after the opening: {admitted} of 20 admitted",
            (answered_at - on_sale_at).num_milliseconds() as f64 / 1000.0
        );
        tokio::time::sleep(Duration::from_millis(2_500)).await;
    }
}

#[tokio::test]
async fn booking_needs_the_callers_own_unused_pass_while_the_queue_is_on() {
    let world = World::start().await;
    let (alice, bob) = (world.buyer().await, world.buyer().await);
    let on_sale_at = Utc::now() + chrono::Duration::seconds(1);
    let event = world.event_on_sale_at(on_sale_at, Some(6_000), &[("GA", 1000, 1)]);
    join(&alice, event).await;
    join(&bob, event).await;
    until_drawn(on_sale_at).await;
    let alices = place(&alice, event).await;
    let pass = alices["pass"]
        .as_str()
        .expect("admitted with a pass")
        .to_string();
    assert!(alices["passExpiresAt"].is_string());
    let bobs = place(&bob, event).await["pass"]
        .as_str()
        .unwrap()
        .to_string();

    let refused = |res: TestResponse| (res.status, res.code());
    assert_eq!(
        refused(book_with(&alice, event, None).await),
        (403, "queue_pass_required".into())
    );
    assert_eq!(
        refused(book(&alice, event, &[("GA", 1)]).await),
        (403, "queue_pass_required".into())
    );
    assert_eq!(
        refused(book_with(&alice, event, Some("P1.forged.pass")).await),
        (403, "queue_pass_invalid".into())
    );
    // Bob's pass is not Alice's.
    assert_eq!(
        refused(book_with(&alice, event, Some(&bobs)).await),
        (403, "queue_pass_invalid".into())
    );
    // An altered expiry breaks the signature.
    let (head, sig) = pass.rsplit_once('.').unwrap();
    // Another last character than the one there (an unchanged pass would book).
    let other = if head.ends_with('A') { 'B' } else { 'A' };
    let tampered = format!("{}{other}.{sig}", &head[..head.len() - 1]);
    assert_eq!(
        refused(book_with(&alice, event, Some(&tampered)).await).0,
        403
    );

    let body = json!({"eventId": event, "tickets": [{"ticketType": "GA", "quantity": 1}]});
    let keyed = |key: &'static str| {
        let (pass, body) = (&pass, &body);
        alice.request(reqwest::Method::POST, "/api/tickets/book", move |r| {
            r.header("Queue-Pass", pass)
                .header("Idempotency-Key", key)
                .json(body)
        })
    };
    let booked = keyed("k-1").await;
    assert_eq!(booked.status, 201, "{}", booked.text);
    // The retry of that very booking (its answer was lost) gets the same answer again ...
    let retried = keyed("k-1").await;
    assert_eq!(retried.status, 201, "{}", retried.text);
    assert_eq!(retried.header("idempotent-replayed"), Some("true"));
    assert_eq!(retried.json()["orderId"], booked.json()["orderId"]);
    // ... and any other request with the pass is refused.
    assert_eq!(refused(keyed("k-2").await), (403, "queue_pass_used".into()));
    assert_eq!(
        refused(book_with(&alice, event, Some(&pass)).await),
        (403, "queue_pass_used".into())
    );
    // A fresh copy of the same pass is the same booking.
    let again = place(&alice, event).await["pass"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        refused(book_with(&alice, event, Some(&again)).await),
        (403, "queue_pass_used".into())
    );

    // A booking that fails (the one seat is gone) gives the pass back for another try.
    assert_eq!(
        refused(book_with(&bob, event, Some(&bobs)).await),
        (409, "sold_out".into())
    );
    assert_eq!(
        refused(book_with(&bob, event, Some(&bobs)).await),
        (409, "sold_out".into())
    );
}

#[tokio::test]
async fn the_live_place_counts_down_to_admission_and_hands_over_the_pass() {
    let world = World::start().await;
    let (first, second) = (world.buyer().await, world.buyer().await);
    let on_sale_at = Utc::now() + chrono::Duration::seconds(1);
    // 30 a minute: the second place is in two seconds after the first.
    let event = world.event_on_sale_at(on_sale_at, Some(30), &[("GA", 1000, 10)]);
    join(&first, event).await;
    join(&second, event).await;
    let res = second
        .http
        .get(second.url(&format!("{}/stream", queue_path(event))))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let mut sse = SseReader::of(res);
    let before = sse.next().await;
    assert_eq!(before["position"], Value::Null);
    assert_eq!(before["admitted"], false);

    // Updates follow until the place is admitted, each closer than the last.
    let mut seen = vec![before];
    while seen.last().unwrap()["admitted"] != true {
        let next = sse.next().await;
        if let (Some(was), Some(now)) = (
            seen.last().unwrap()["estimatedWaitSecs"].as_u64(),
            next["estimatedWaitSecs"].as_u64(),
        ) {
            assert!(now <= was, "{next}");
        }
        seen.push(next);
    }
    let admitted = seen.last().unwrap();
    assert!(admitted["position"].as_u64().is_some());
    assert_eq!(admitted["estimatedWaitSecs"], 0);
    let pass = admitted["pass"].as_str().expect("the pass");
    assert_eq!(book_with(&second, event, Some(pass)).await.status, 201);
    println!("live updates until admitted: {}", seen.len());
}

#[tokio::test]
async fn the_waiting_room_answers_signed_in_visitors_only_and_events_without_one_say_so() {
    let world = World::start().await;
    let buyer = world.buyer().await;
    let anonymous = TestClient::new(world.tickets.url());
    let on_sale_at = Utc::now() + chrono::Duration::hours(1);
    let queued = world.event_on_sale_at(on_sale_at, Some(100), &[("GA", 1000, 10)]);
    let unqueued = world.event_on_sale_at(on_sale_at, None, &[("GA", 1000, 10)]);
    let plain = world.event(&[("GA", 1000, 10)]);

    let statuses = |client: &TestClient, event: Uuid| {
        let client = client.clone();
        async move {
            [
                client.get(&queue_path(event)).await.status,
                client.post(&queue_path(event), &json!({})).await.status,
                client
                    .get(&format!("{}/stream", queue_path(event)))
                    .await
                    .status,
            ]
        }
    };
    assert_eq!(statuses(&anonymous, queued).await, [401, 401, 401]);
    // Not joined yet, the first look is 404; after joining every route answers.
    assert_eq!(buyer.get(&queue_path(queued)).await.code(), "not_in_queue");
    join(&buyer, queued).await;
    let stream = buyer
        .http
        .get(buyer.url(&format!("{}/stream", queue_path(queued))))
        .send()
        .await
        .unwrap();
    assert_event_stream(&stream);
    drop(stream);
    for event in [unqueued, plain] {
        assert_eq!(statuses(&buyer, event).await, [409, 409, 409]);
        assert_eq!(buyer.get(&queue_path(event)).await.code(), "no_queue");
    }
    assert_eq!(
        buyer.get(&queue_path(Uuid::new_v4())).await.code(),
        "event_not_found"
    );

    // Before the opening, without a queue, booking waits for the sale.
    let early = book(&buyer, unqueued, &[("GA", 1)]).await;
    assert_eq!(
        (early.status, early.code()),
        (409, "not_on_sale_yet".into())
    );
    assert_eq!(book(&buyer, plain, &[("GA", 1)]).await.status, 201);
}

#[tokio::test]
async fn every_place_survives_a_restart_and_every_replica_gives_the_same_one() {
    let mut world = World::start().await;
    let visitors = users(&world, 40).await;
    let on_sale_at = Utc::now() + chrono::Duration::seconds(2);
    let event = world.event_on_sale_at(on_sale_at, Some(60), &[("GA", 1000, 100)]);
    join_all(visitors.iter().map(|v| join(v, event))).await;
    until_drawn(on_sale_at).await;
    let late = world.buyer().await;
    join(&late, event).await;
    let before: Vec<Value> =
        join_all(visitors.iter().chain([&late]).map(|v| place(v, event))).await;
    let before: HashMap<usize, Value> = before
        .into_iter()
        .map(|p| p["position"].clone())
        .enumerate()
        .collect();

    // A second replica on the same broker, started after the fact, agrees.
    let replica = TicketHarness::start(world.config()).await;
    for (i, v) in visitors.iter().chain([&late]).enumerate() {
        assert_eq!(
            place_at(&replica.url(), v, event).await["position"],
            before[&i]
        );
    }

    // The first one stops; a new one starts with empty memory and finds every place again.
    world.tickets.stop_background().await;
    let restarted = TicketHarness::start(world.config()).await;
    let old = std::mem::replace(&mut world.tickets, restarted);
    old.server.stop().await;
    for (i, v) in visitors.iter().chain([&late]).enumerate() {
        assert_eq!(
            place_at(&world.tickets.url(), v, event).await["position"],
            before[&i]
        );
    }
    assert_eq!(before[&40], 41);
}

/// How many messages the waiting room's bucket holds under `keys` (a filter on its keys).
async fn stored(world: &World, keys: &str) -> usize {
    use futures::TryStreamExt;
    let stream = world.js.get_stream("KV_WAITING_ROOM").await.unwrap();
    let subjects = stream
        .info_with_subjects(format!("$KV.WAITING_ROOM.{keys}"))
        .await
        .unwrap();
    let counts: Vec<(String, usize)> = subjects.try_collect().await.unwrap();
    counts.into_iter().map(|(_, n)| n).sum()
}

#[tokio::test]
async fn the_queue_of_a_sale_that_is_over_is_purged_and_a_replica_started_later_replays_none_of_it()
{
    let world = World::start().await;
    let visitors = users(&world, 6).await;
    let on_sale_at = Utc::now() + chrono::Duration::seconds(1);
    let over = world.event_on_sale_at(on_sale_at, Some(60), &[("GA", 1000, 100)]);
    let running = world.event_on_sale_at(on_sale_at, Some(60), &[("GA", 1000, 100)]);
    for v in &visitors {
        join(v, over).await;
        join(v, running).await;
    }
    until_drawn(on_sale_at).await;
    let places: Vec<Value> = join_all(visitors.iter().map(|v| place(v, running))).await;
    // The first in line of the sale about to end books with its pass: the bucket's last write.
    let mut first = None;
    for v in &visitors {
        let p = place(v, over).await;
        if p["position"] == 1 {
            first = Some((v, p["pass"].as_str().expect("admitted").to_string()));
        }
    }
    let (first, pass) = first.expect("someone is first");
    let booked = book_with(first, over, Some(&pass)).await;
    assert_eq!(booked.status, 201, "{}", booked.text);
    let over_keys = [format!("entry.{over}.>"), format!("used.{over}.>")];
    assert_eq!(stored(&world, &over_keys[0]).await, 6);
    assert_eq!(stored(&world, &over_keys[1]).await, 1);

    // Nothing is over yet: the sweep keeps everything.
    let state = &world.tickets.app.state;
    assert_eq!(WaitingRoom::purge_over(state).await.unwrap(), 0);
    assert_eq!(stored(&world, &over_keys[0]).await, 6);

    // The catalogue cancels the event: its sale is over.
    world
        .publish(
            subjects::CATALOG_EVENT_CANCELLED,
            over,
            event_cancelled(over, 2),
        )
        .await;
    eventually(
        "the ticket service to learn of the cancellation",
        || async {
            let stock = world.tickets.store.event_stock(over).await.unwrap()?;
            (stock.event.status == EventStatus::Cancelled).then_some(())
        },
    )
    .await;

    // The sweep removes its entries, used pass and settings from the stream, and only those.
    assert_eq!(WaitingRoom::purge_over(state).await.unwrap(), 1);
    for keys in over_keys
        .iter()
        .map(String::as_str)
        .chain([&*format!("settings.{over}")])
    {
        assert_eq!(stored(&world, keys).await, 0, "{keys}");
    }
    assert_eq!(stored(&world, &format!("entry.{running}.>")).await, 6);
    assert_eq!(WaitingRoom::purge_over(state).await.unwrap(), 0);

    // A replica started now has none of it to replay, follows the rest (the stream's newest
    // revision was purged) and gives every place of the running sale as before.
    let replica = TicketHarness::start(world.config()).await;
    for (v, before) in visitors.iter().zip(&places) {
        assert_eq!(
            place_at(&replica.url(), v, running).await["position"],
            before["position"]
        );
    }
    let res = first
        .send(
            first
                .http
                .get(format!("{}{}", replica.url(), queue_path(over))),
        )
        .await;
    assert_eq!(
        (res.status, res.code().as_str()),
        (404, "not_in_queue"),
        "{}",
        res.text
    );
}

#[tokio::test]
async fn a_pass_recorded_as_used_under_the_key_of_before_stays_used() {
    let world = World::start().await;
    let bucket = Bucket::open(&world.js).await.unwrap();
    let kv = world.js.get_key_value("WAITING_ROOM").await.unwrap();
    let (event, old, fresh) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    kv.create(format!("used.{old}"), "2026-11-01T10:00:00Z".into())
        .await
        .unwrap();
    assert!(!bucket.use_pass(event, old).await.unwrap());
    assert!(bucket.use_pass(event, fresh).await.unwrap());
    assert!(!bucket.use_pass(event, fresh).await.unwrap());
}
