//! Booking throughput and latency of the whole system on this machine, printed as figures.
//!
//! `cargo xtask bench` runs it in release mode. It starts every service in this process with
//! file-backed SQLite (as `xtask up` does), signs up buyers, and books through the ticket
//! service's HTTP API (each booking checks the session as in production: against the ticket
//! service's copy of the auth service's session records). Nothing is mocked. Metrics are recorded as in production unless `METRICS=off`;
//! `xtask bench` first runs the booking part with them off, so the two runs show their cost.

use std::time::{Duration, Instant};

use std::collections::HashSet;

use e2e::{APPROVED_CARD, Options, System, card_body};
use futures::StreamExt;
use serde_json::json;

const BUYERS: usize = 64;
const SEQUENTIAL: usize = 500;
const BOOKINGS: usize = 4000;
const CONCURRENCY: usize = 32;
const FLASH_SEATS: u32 = 500;
const FLASH_BUYERS: usize = 2000;
/// Paid orders of the event the cascade cancels.
const CASCADE_ORDERS: usize = 10_000;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn report(name: &str, started: Instant, mut latencies: Vec<Duration>) {
    let wall = started.elapsed();
    latencies.sort();
    println!(
        "{name}: {} requests in {:.2} s = {:.0}/s; latency p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        latencies.len(),
        wall.as_secs_f64(),
        latencies.len() as f64 / wall.as_secs_f64(),
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.95).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
}

#[tokio::main]
async fn main() {
    // `--bookings-only`: the booking figures alone, e.g. to compare a run with `METRICS=off`.
    let bookings_only = std::env::args().any(|a| a == "--bookings-only");
    let metrics = platform::metrics::install();
    println!(
        "metrics: {}",
        if metrics { "on" } else { "off (METRICS=off)" }
    );
    let system = System::start_with(Options {
        file_backed: true,
        mail: false,
        ..Options::default()
    })
    .await;
    let organizer = system.sign_up("Olga").await;
    let big = system
        .create_event(&organizer, &[("GA", 25.0, 100_000)])
        .await;
    let flash = system
        .create_event(&organizer, &[("Front row", 99.0, FLASH_SEATS)])
        .await;

    let buyers = system
        .sign_ups("buyer", BUYERS.max(FLASH_BUYERS.min(200)))
        .await;
    // Point every browser at the ticket service directly: the benchmark measures the service.
    let tickets = system.tickets.url();
    let clients: Vec<_> = buyers
        .iter()
        .map(|b| b.pointed_at(tickets.clone()))
        .collect();

    let book = |client: platform::testing::TestClient, event: uuid::Uuid| async move {
        let started = Instant::now();
        let res = client
            .post("/api/tickets/book", &json!({"eventId": event, "tickets": [{"ticketType": if event == big { "GA" } else { "Front row" }, "quantity": 1}]}))
            .await;
        (started.elapsed(), res.status)
    };

    // Warm-up: connections, caches, the first fetch of each event from the catalogue.
    futures::stream::iter(0..200)
        .map(|i| book(clients[i % BUYERS].clone(), big))
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<_>>()
        .await;

    // One booking at a time: what a single booking costs, without queueing.
    let started = Instant::now();
    let mut sequential = Vec::with_capacity(SEQUENTIAL);
    for i in 0..SEQUENTIAL {
        let (latency, status) = book(clients[i % BUYERS].clone(), big).await;
        assert_eq!(status, 201);
        sequential.push(latency);
    }
    report("bookings one at a time", started, sequential);

    let started = Instant::now();
    let results: Vec<_> = futures::stream::iter(0..BOOKINGS)
        .map(|i| book(clients[i % BUYERS].clone(), big))
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let failures = results.iter().filter(|(_, s)| *s != 201).count();
    report(
        &format!("bookings (concurrency {CONCURRENCY})"),
        started,
        results.into_iter().map(|(d, _)| d).collect(),
    );
    assert_eq!(failures, 0, "every booking of the big event succeeds");
    if bookings_only {
        return;
    }

    let started = Instant::now();
    let results: Vec<_> = futures::stream::iter(0..FLASH_BUYERS)
        .map(|i| book(clients[i % clients.len()].clone(), flash))
        .buffer_unordered(CONCURRENCY * 2)
        .collect()
        .await;
    let sold = results.iter().filter(|(_, s)| *s == 201).count();
    let refused = results.iter().filter(|(_, s)| *s == 409).count();
    report(
        &format!("flash sale ({FLASH_BUYERS} buyers, {FLASH_SEATS} seats)"),
        started,
        results.into_iter().map(|(d, _)| d).collect(),
    );
    let availability = platform::testing::TestClient::new(tickets)
        .get(&format!("/api/tickets/events/{flash}/availability"))
        .await
        .json();
    println!(
        "flash sale result: {sold} booked, {refused} sold out; stock held {} sold {} available {}",
        availability["ticketTypes"][0]["held"],
        availability["ticketTypes"][0]["sold"],
        availability["ticketTypes"][0]["available"]
    );
    assert_eq!(sold as u32, FLASH_SEATS, "exactly the seats there are");
    assert_eq!(availability["ticketTypes"][0]["held"], FLASH_SEATS);

    cascade(system, &organizer, &clients).await;
}

/// Cancels an event with `CASCADE_ORDERS` paid orders and times the fact chain: every order
/// cancelled by the ticket service, every payment refunded once by the payment service, every
/// order reading `refunded`. The payment service's background work is stopped and restarted
/// halfway through the refunds.
async fn cascade(
    mut system: System,
    organizer: &platform::testing::TestClient,
    clients: &[platform::testing::TestClient],
) {
    let event = system
        .create_event(organizer, &[("General", 20.0, CASCADE_ORDERS as u32)])
        .await;
    let payments = system.payments.url();
    let started = Instant::now();
    let paid: Vec<bool> = futures::stream::iter(0..CASCADE_ORDERS)
        .map(|i| {
            let client = clients[i % clients.len()].clone();
            let payments = payments.clone();
            async move {
                let booked = e2e::try_book(&client, event, 1).await;
                let order: uuid::Uuid = booked.json()["orderId"].as_str().unwrap().parse().unwrap();
                let payer = client.pointed_at(payments);
                let res = payer
                    .post("/api/payment/process", &card_body(order, APPROVED_CARD))
                    .await;
                res.json()["payment"]["status"] == "completed"
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    assert!(paid.iter().all(|p| *p), "every payment completes");
    println!(
        "cascade set-up: {CASCADE_ORDERS} orders booked and paid in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let summary = |organizer: platform::testing::TestClient| async move {
        organizer
            .get(&format!("/api/tickets/events/{event}/summary"))
            .await
            .json()
    };
    let count = |s: &serde_json::Value, status: &str| {
        s["ordersByStatus"][status].as_u64().unwrap_or(0) as usize
    };
    wait_until(
        "every order confirmed",
        Duration::from_secs(120),
        || async { count(&summary(organizer.clone()).await, "confirmed") == CASCADE_ORDERS },
    )
    .await;

    let started = Instant::now();
    let res = organizer
        .post(&format!("/api/events/{event}/cancel"), &json!({}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    println!(
        "cascade: the organizer's answer says {} orders will be refunded",
        res.json()["ordersToRefund"]
    );
    wait_until(
        "half the orders refunded",
        Duration::from_secs(300),
        || async { count(&summary(organizer.clone()).await, "refunded") >= CASCADE_ORDERS / 2 },
    )
    .await;
    let halfway = started.elapsed();
    system
        .payment_background
        .take()
        .expect("running")
        .stop()
        .await;
    system.payment_background = Some(
        payment_service::App {
            state: system.payment_state.clone(),
        }
        .spawn_background(),
    );
    wait_until("every order refunded", Duration::from_secs(300), || async {
        count(&summary(organizer.clone()).await, "refunded") == CASCADE_ORDERS
    })
    .await;
    let done = started.elapsed();
    let facts = platform::testing::stream_events(&system.js, "PAYMENTS").await;
    let refunds: Vec<_> = facts
        .iter()
        .filter(|e| e.subject == "payments.refunded")
        .filter_map(|e| e.envelope["data"]["paymentId"].as_str().map(str::to_string))
        .collect();
    let distinct: HashSet<_> = refunds.iter().collect();
    let s = summary(organizer.clone()).await;
    println!(
        "cascade of {CASCADE_ORDERS} paid orders (payment service restarted at half): half refunded in {:.1} s, all in {:.1} s = {:.0} refunds/s; {} payments.refunded for {} payments; net revenue {}",
        halfway.as_secs_f64(),
        done.as_secs_f64(),
        CASCADE_ORDERS as f64 / done.as_secs_f64(),
        refunds.len(),
        distinct.len(),
        s["netMinor"]
    );
    assert_eq!(refunds.len(), CASCADE_ORDERS, "one refund per payment");
    assert_eq!(distinct.len(), CASCADE_ORDERS);
    assert_eq!(s["netMinor"], 0);
}

/// Polls `check` every 100 ms until it holds, at most `limit`.
async fn wait_until<F, Fut>(what: &str, limit: Duration, check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
