//! Check-in at the door, over real HTTP: who may scan, the signed code an order shows, fifty
//! scanners racing on one ticket, re-uploads with the same nonce, refused tickets, offline
//! uploads resolved by `scannedAt`, the bundle, and the check-ins in the attendee list, the
//! summary and on the `TICKETS` stream.

mod support;

use chrono::{DateTime, Duration, Utc};
use contracts::subjects;
use platform::testing::{TestClient, TestResponse, wait_for_events};
use serde_json::{Value, json};
use support::World;
use ticket_code::EventKey;
use uuid::Uuid;

const CHECKIN: &str = "/api/tickets/checkin";

fn bundle_path(event: Uuid) -> String {
    format!("/api/tickets/events/{event}/checkin/bundle")
}

/// An organizer (signed in) and their published event of 100 `GA` seats.
async fn organizer_with_event(world: &World) -> (TestClient, Uuid) {
    let refunds = json!({"allowed": true, "untilHoursBefore": 0});
    world.organizer_with_event(refunds, 100).await
}

fn ticket(order: &Value, i: usize) -> &Value {
    &order["issuedTickets"][i]
}

fn code(order: &Value, i: usize) -> String {
    ticket(order, i)["code"].as_str().unwrap().to_string()
}

fn signed(order: &Value, i: usize) -> String {
    ticket(order, i)["signedCode"].as_str().unwrap().to_string()
}

async fn scan(client: &TestClient, event: Uuid, code: &str, nonce: &str) -> TestResponse {
    client
        .post(
            CHECKIN,
            &json!({"eventId": event, "code": code, "nonce": nonce, "gate": "North"}),
        )
        .await
}

/// Scans and expects a 200; its answer.
async fn scanned(client: &TestClient, body: Value) -> Value {
    let res = client.post(CHECKIN, &body).await;
    assert_eq!(res.status, 200, "{}", res.text);
    res.json()
}

fn offline(event: Uuid, code: &str, nonce: &str, at: DateTime<Utc>, gate: &str) -> Value {
    json!({"eventId": event, "code": code, "nonce": nonce, "scannedAt": at, "gate": gate, "direction": "entry"})
}

#[tokio::test]
async fn the_door_is_401_anonymous_404_to_buyers_and_other_organizers_and_open_to_staff_the_organizer_and_an_admin()
 {
    let world = World::start().await;
    let (organizer, event) = organizer_with_event(&world).await;
    let (buyer, _) = world.user().await;
    let order = world.paid_order(&buyer, event, 1).await.0;
    let (other_organizer, other_id) = world.user().await;
    world.organized_event(
        other_id,
        Utc::now() + Duration::days(3),
        json!({"allowed": false, "untilHoursBefore": 0}),
        &[("GA", 100, 5)],
    );
    let (staff, _) = world.user_with_email("Door.Keeper@example.com").await;
    world
        .name_staff(event, 1, &["door.keeper@example.com"])
        .await;
    let admin = world.admin().await;
    let anonymous = TestClient::new(world.tickets.url());

    let attendees = format!("/api/tickets/events/{event}/attendees.csv");
    let summary = format!("/api/tickets/events/{event}/summary");
    let the_code = code(&order, 0);
    let mut n = 0;
    let mut statuses = |client: &TestClient| {
        let client = client.clone();
        let (attendees, summary, code) = (attendees.clone(), summary.clone(), the_code.clone());
        n += 1;
        let nonce = format!("matrix-{n}");
        async move {
            [
                scan(&client, event, &code, &nonce).await.status,
                client.get(&bundle_path(event)).await.status,
                client.get(&attendees).await.status,
                client.get(&summary).await.status,
            ]
        }
    };
    assert_eq!(statuses(&anonymous).await, [401, 401, 401, 401]);
    assert_eq!(statuses(&buyer).await, [404, 404, 404, 404]);
    assert_eq!(statuses(&other_organizer).await, [404, 404, 404, 404]);
    // Staff work the door and see the attendee list, not the money.
    assert_eq!(statuses(&staff).await, [200, 200, 200, 404]);
    assert_eq!(statuses(&organizer).await, [200, 200, 200, 200]);
    assert_eq!(statuses(&admin).await, [200, 200, 200, 200]);

    // Removed from the list (a newer version), staff are strangers again.
    world.name_staff(event, 2, &[]).await;
    assert_eq!(statuses(&staff).await, [404, 404, 404, 404]);
    let refused = scan(&buyer, event, &the_code, "buyer-2").await;
    assert_eq!(refused.code(), "event_not_found");
}

#[tokio::test]
async fn an_orders_signed_code_admits_its_holder_once_and_a_forged_or_foreign_one_is_refused() {
    let world = World::start().await;
    let (organizer, event) = organizer_with_event(&world).await;
    let buyer = world.buyer().await;
    let order = world.paid_order(&buyer, event, 2).await.0;
    let first = signed(&order, 0);
    assert!(first.starts_with("T1."), "{first}");
    // Deterministic: the order shows the same codes every time.
    assert_eq!(
        world.order(&buyer, order["id"].as_str().unwrap()).await["issuedTickets"],
        order["issuedTickets"]
    );

    let ok = scanned(
        &organizer,
        offline(event, &first, "s1", Utc::now(), "North"),
    )
    .await;
    assert_eq!(ok["result"], "ok");
    assert_eq!(ok["code"], code(&order, 0));
    assert_eq!(ok["ticketType"], "GA");
    assert_eq!(ok["holderName"], "Bo Buyer");
    assert_eq!(ok["counter"], json!({"checkedIn": 1, "sold": 2}));
    let again = scanned(
        &organizer,
        offline(event, &first, "s2", Utc::now(), "South"),
    )
    .await;
    assert_eq!(again["result"], "already_checked_in");
    assert_eq!(again["firstCheckIn"]["gate"], "North");

    // The plain code typed by hand is the same ticket.
    let typed = scanned(
        &organizer,
        offline(
            event,
            &code(&order, 0).to_lowercase(),
            "s3",
            Utc::now(),
            "South",
        ),
    )
    .await;
    assert_eq!(typed["result"], "already_checked_in");

    // Signed by someone else's key, or altered after signing: invalid, and nothing is said.
    let forged = EventKey::from_secret(1, [42; 32]).sign(event, &code(&order, 1), "GA");
    let mut altered = signed(&order, 1);
    let at = altered.len() - 3;
    let swapped = if &altered[at..=at] == "A" { "B" } else { "A" };
    altered.replace_range(at..=at, swapped);
    for (nonce, text) in [("f1", forged), ("f2", altered), ("f3", "T1.garbage".into())] {
        let answer = scanned(
            &organizer,
            offline(event, &text, nonce, Utc::now(), "North"),
        )
        .await;
        assert_eq!(answer["result"], "invalid", "{text}");
        assert_eq!(answer["holderName"], Value::Null);
    }
    let unknown = scanned(
        &organizer,
        offline(event, "NOT-A-TICKET", "f4", Utc::now(), "N"),
    )
    .await;
    assert_eq!(unknown["result"], "invalid");

    // A genuine ticket shown at the door of another event.
    let other = world.organized_event(
        Uuid::new_v4(),
        Utc::now() + Duration::days(5),
        json!({"allowed": false, "untilHoursBefore": 0}),
        &[("GA", 100, 5)],
    );
    let admin = world.admin().await;
    let foreign = scanned(&admin, offline(other, &first, "w1", Utc::now(), "N")).await;
    assert_eq!(foreign["result"], "wrong_event");
    assert_eq!(foreign["code"], Value::Null);
}

#[tokio::test]
async fn fifty_scanners_racing_on_one_ticket_get_exactly_one_ok_and_one_fact() {
    // Fifty sessions are verified at once: give the auth service time on a busy machine.
    let world = World::start_with(
        |mut c| {
            c.links.auth_timeout = std::time::Duration::from_secs(15);
            c
        },
        true,
    )
    .await;
    let (organizer, event) = organizer_with_event(&world).await;
    let buyer = world.buyer().await;
    let order = world.paid_order(&buyer, event, 1).await.0;
    let text = signed(&order, 0);
    let scans = (0..50).map(|i| {
        let (client, text) = (organizer.clone(), text.clone());
        tokio::spawn(async move {
            let body = json!({"eventId": event, "code": text, "nonce": format!("race-{i}"), "gate": format!("gate {}", i % 5)});
            let res = client.post(CHECKIN, &body).await;
            assert_eq!(res.status, 200, "{}", res.text);
            res.json()["result"].as_str().unwrap().to_string()
        })
    });
    let results: Vec<String> = futures::future::join_all(scans)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let ok = results.iter().filter(|r| *r == "ok").count();
    assert_eq!(ok, 1, "{results:?}");
    assert_eq!(
        results
            .iter()
            .filter(|r| *r == "already_checked_in")
            .count(),
        49
    );
    wait_for_events(&world.js, "TICKETS", |e| !e.is_empty()).await;
    // Give a second fact time to show up, were one (wrongly) published.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let facts = platform::testing::stream_events(&world.js, "TICKETS").await;
    assert_eq!(facts.len(), 1);
    assert_eq!(facts[0].subject, subjects::TICKETS_CHECKED_IN);
    assert_eq!(facts[0].envelope["data"]["code"], code(&order, 0));
    assert_eq!(facts[0].envelope["subject"], event.to_string());
    assert_eq!(facts[0].msg_id.as_deref(), facts[0].envelope["id"].as_str());
}

#[tokio::test]
async fn the_same_nonce_replays_the_first_answer_and_refunded_or_cancelled_tickets_are_refused() {
    let world = World::start().await;
    let (organizer, event) = organizer_with_event(&world).await;
    let buyer = world.buyer().await;
    let order = world.paid_order(&buyer, event, 1).await.0;
    let text = signed(&order, 0);
    let first = scanned(
        &organizer,
        offline(event, &text, "queue-1", Utc::now(), "North"),
    )
    .await;
    assert_eq!(first["result"], "ok");
    // The queue is uploaded again: the same answer, not `already_checked_in`.
    let replay = scanned(
        &organizer,
        offline(event, &text, "queue-1", Utc::now(), "North"),
    )
    .await;
    assert_eq!(replay, first);

    // A second buyer's order is refunded by the organizer: its ticket admits no one.
    let other_buyer = world.buyer().await;
    let (other, payment) = world.paid_order(&other_buyer, event, 1).await;
    let other_code = code(&other, 0);
    let other_signed = signed(&other, 0);
    let order_id = other["id"].as_str().unwrap().to_string();
    let res = organizer
        .post(
            &format!("/api/tickets/orders/{order_id}/refund"),
            &json!({}),
        )
        .await;
    assert_eq!(res.status, 202, "{}", res.text);
    let cancelled = scanned(
        &organizer,
        offline(event, &other_signed, "r1", Utc::now(), "N"),
    )
    .await;
    assert_eq!(cancelled["result"], "cancelled");
    assert_eq!(cancelled["holderName"], "Bo Buyer");
    world.refund(&payment, "organizer_refund").await;
    world
        .order_becomes(&other_buyer, &order_id, "refunded")
        .await;
    let refused = scanned(
        &organizer,
        offline(event, &other_code, "r2", Utc::now(), "N"),
    )
    .await;
    assert_eq!(refused["result"], "refunded");
    // A void ticket no longer shows a signed code.
    let after = world.order(&other_buyer, &order_id).await;
    assert_eq!(ticket(&after, 0)["signedCode"], Value::Null);

    // An unpaid order has no tickets yet; a bad scan is 422 with every field named.
    let res = organizer
        .post(
            CHECKIN,
            &json!({"eventId": event, "code": " ", "nonce": "", "gate": "x".repeat(65)}),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text);
    let fields = &res.json()["error"]["fields"];
    for f in ["code", "nonce", "gate"] {
        assert!(fields[f].is_array(), "{f}: {}", res.text);
    }
}

#[tokio::test]
async fn an_offline_double_scan_is_resolved_by_scanned_at_and_shows_in_the_list_bundle_and_summary()
{
    let world = World::start().await;
    let (organizer, event) = organizer_with_event(&world).await;
    let buyer = world.buyer().await;
    let order = world.paid_order(&buyer, event, 3).await.0;
    let (a, b) = (code(&order, 0), code(&order, 1));
    let t = Utc::now() - Duration::minutes(20);

    // Two gates admitted ticket A offline; the South queue (the later scan) reaches the server
    // first, then the North queue (the earlier scan) with ticket B too.
    let south = scanned(
        &organizer,
        offline(event, &a, "south-1", t + Duration::minutes(2), "South"),
    )
    .await;
    assert_eq!(south["result"], "ok");
    let north = scanned(&organizer, offline(event, &a, "north-1", t, "North")).await;
    assert_eq!(north["result"], "already_checked_in");
    assert_eq!(north["firstCheckIn"]["gate"], "North");
    let north_b = scanned(
        &organizer,
        offline(event, &b, "north-2", t + Duration::seconds(30), "North"),
    )
    .await;
    assert_eq!(north_b["result"], "ok");
    assert_eq!(north_b["counter"], json!({"checkedIn": 2, "sold": 3}));
    // Uploaded in order, the later scan is the one refused.
    let late = scanned(
        &organizer,
        offline(event, &b, "south-2", t + Duration::minutes(3), "South"),
    )
    .await;
    assert_eq!(late["result"], "already_checked_in");

    let bundle = organizer.get(&bundle_path(event)).await;
    assert_eq!(bundle.status, 200, "{}", bundle.text);
    let bundle = bundle.json();
    assert_eq!(bundle["checkedIn"], json!([a, b]));
    assert_eq!(bundle["valid"], json!([code(&order, 2)]));
    assert_eq!(bundle["keys"][0]["version"], 1);
    let key = ticket_code::public_key(bundle["keys"][0]["publicKey"].as_str().unwrap()).unwrap();
    let claim = ticket_code::verify(&signed(&order, 2), |_| Some(key)).unwrap();
    assert_eq!((claim.event_id, claim.code), (event, code(&order, 2)));

    let csv = organizer
        .get(&format!("/api/tickets/events/{event}/attendees.csv"))
        .await;
    let mut reader = csv::Reader::from_reader(csv.text.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let row = |c: &str| rows.iter().find(|r| &r[0] == c).unwrap().clone();
    let minute = |d: DateTime<Utc>| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert_eq!((&row(&a)[6], &row(&a)[7]), (minute(t).as_str(), "North"));
    assert_eq!(&row(&b)[7], "North");
    assert_eq!(
        (&row(&code(&order, 2))[6], &row(&code(&order, 2))[7]),
        ("", "")
    );

    let summary = organizer
        .get(&format!("/api/tickets/events/{event}/summary"))
        .await
        .json();
    let check_ins = &summary["checkIns"];
    assert_eq!(check_ins["checkedIn"], 2);
    assert_eq!(
        check_ins["byTicketType"],
        json!([{"ticketType": "GA", "checkedIn": 2}])
    );
    assert_eq!(
        check_ins["byGate"],
        json!([{"gate": "North", "checkedIn": 2}])
    );
    let per_minute: u64 = check_ins["perMinute"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["checkedIn"].as_u64().unwrap())
        .sum();
    assert_eq!(per_minute, 2);
    let facts = wait_for_events(&world.js, "TICKETS", |e| e.len() >= 2).await;
    assert_eq!(facts.len(), 2, "one fact per admitted entry");
}

/// The bundle of an event with 50,000 sold tickets: its size and the time to build and send
/// it, printed (figures, not assertions). The tickets are written straight into the store (500
/// paid orders of 100), then the bundle is fetched over HTTP like a scanner does.
#[tokio::test]
async fn a_bundle_of_fifty_thousand_tickets_lists_every_code_and_its_size_and_time_are_printed() {
    use ticket_service::lifecycle::Command;
    use ticket_service::order::{AttemptStatus, OrderLine, PaymentAttempt};
    use ticket_service::store::{BookResult, Booking, EventInfo, EventStatus, TicketTypeInfo};

    const ORDERS: u32 = 500;
    const PER_ORDER: u32 = 100;
    let world = World::start_with(|c| c, false).await;
    let (organizer, organizer_id) = world.user().await;
    let event = Uuid::new_v4();
    let price = platform::money::Money::from_minor_units(1500, platform::money::Currency::USD);
    let store = world.tickets.store.clone();
    store
        .apply_event(&EventInfo {
            id: event,
            title: "Stadium".into(),
            date_time: Utc::now() + Duration::days(30),
            status: EventStatus::Published,
            version: 1,
            currency: platform::money::Currency::USD,
            ticket_types: vec![TicketTypeInfo {
                name: "GA".into(),
                price,
                quantity: ORDERS * PER_ORDER,
            }],
            organizer_id: Some(organizer_id),
            refund_policy: Default::default(),
            waitlist_enabled: true,
        })
        .await
        .unwrap();
    let started = std::time::Instant::now();
    for _ in 0..ORDERS {
        let lines = vec![OrderLine::new("GA".into(), price, PER_ORDER).unwrap()];
        let order = ticket_service::order::sample(event, lines, Utc::now());
        let booking = Booking {
            order: order.clone(),
            idempotency: None,
            traceparent: None,
        };
        assert_eq!(store.book(&booking).await.unwrap(), BookResult::Booked);
        let paid = PaymentAttempt {
            payment_id: Uuid::new_v4(),
            status: AttemptStatus::parse("completed").unwrap(),
            response_code: None,
            response_message: None,
            at: Utc::now(),
        };
        store
            .apply(order.id, &Command::Confirm(paid), None, None)
            .await
            .unwrap();
    }
    println!(
        "set-up: {} tickets in {ORDERS} paid orders in {:.1} s",
        ORDERS * PER_ORDER,
        started.elapsed().as_secs_f64()
    );

    for attempt in ["first (the event's key is made)", "second"] {
        let started = std::time::Instant::now();
        let res = organizer.get(&bundle_path(event)).await;
        let elapsed = started.elapsed();
        assert_eq!(res.status, 200, "{}", res.text);
        let bundle = res.json();
        assert_eq!(
            bundle["valid"].as_array().unwrap().len(),
            (ORDERS * PER_ORDER) as usize
        );
        println!(
            "check-in bundle of {} tickets, {attempt} request: {} bytes of JSON ({:.2} MB) in {:.0} ms (debug build, built and sent over HTTP)",
            ORDERS * PER_ORDER,
            res.text.len(),
            res.text.len() as f64 / 1e6,
            elapsed.as_secs_f64() * 1e3
        );
    }
}
