//! Booking throughput and latency of the whole system on this machine, printed as figures.
//!
//! `cargo xtask bench` runs it in release mode. It starts every service in this process with
//! file-backed SQLite (as `xtask up` does), signs up buyers, and books through the ticket
//! service's HTTP API (each booking verifies the session with the auth service, exactly as in
//! production). Nothing is mocked.

use std::time::{Duration, Instant};

use e2e::{Options, System};
use futures::StreamExt;
use serde_json::json;

const BUYERS: usize = 64;
const SEQUENTIAL: usize = 500;
const BOOKINGS: usize = 4000;
const CONCURRENCY: usize = 32;
const FLASH_SEATS: u32 = 500;
const FLASH_BUYERS: usize = 2000;

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
    let system = System::start_with(Options {
        file_backed: true,
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

    let mut buyers = Vec::new();
    for i in 0..BUYERS.max(FLASH_BUYERS.min(200)) {
        buyers.push(system.sign_up(&format!("buyer{i}")).await);
    }
    // Point every browser at the ticket service directly: the benchmark measures the service.
    let tickets = system.tickets.url();
    let clients: Vec<_> = buyers
        .iter()
        .map(|b| platform::testing::TestClient {
            http: b.http.clone(),
            base: tickets.clone(),
        })
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
}
