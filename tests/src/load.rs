//! Booking load against a running stack, every service in its own process, printed as figures.
//!
//! `cargo xtask bench --processes` starts the stack (release build) and runs this with the
//! services' addresses in the environment, as `xtask up` sets them (`WEB_URL`,
//! `TICKET_SERVICE_URL`, `PAYMENT_SERVICE_URL`, `NATS_URL`). For each concurrency it books for a
//! while, then waits until every `orders.created` of those bookings is in the ORDERS stream: the
//! rate booked *and* published, and the outbox backlog when the bookings stopped. Then the ticket
//! service's `/health` rate at the highest concurrency (a ceiling for comparison) and book ->
//! paid -> confirmed one at a time. `BENCH_SECONDS` sets each booking phase's length (default 10).

use std::time::{Duration, Instant};

use async_nats::jetstream;
use contracts::subjects::{ORDERS_CONFIRMED, streams};
use e2e::{APPROVED_CARD, card_body};
use futures::StreamExt;
use platform::testing::TestClient;
use serde_json::json;
use uuid::Uuid;

const BUYERS: usize = 64;
const LEVELS: [usize; 3] = [1, 16, 64];
/// Book -> paid -> confirmed rounds, one at a time.
const ROUNDS: usize = 300;

fn env(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: run `cargo xtask bench --processes`"))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// CPU seconds (user + system) each process of the stack has used so far, this load generator
/// included, from `/proc/<pid>/stat`; `BENCH_PIDS` lists the others as `name=pid,...`.
fn cpu_seconds() -> Vec<(String, f64)> {
    let tick = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let read = |pid: &str| -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // The command name (field 2) may hold spaces; the fields after it are plain numbers.
        let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        // utime and stime are fields 14 and 15; `after` starts at field 3.
        (ticks(11) + ticks(12)) / tick
    };
    let mut all: Vec<(String, f64)> = std::env::var("BENCH_PIDS")
        .unwrap_or_default()
        .split(',')
        .filter_map(|p| p.split_once('='))
        .map(|(name, pid)| (name.to_string(), read(pid)))
        .collect();
    all.push(("load".to_string(), read("self")));
    all
}

/// CPU milliseconds per booking each process spent between two `cpu_seconds` readings.
fn cpu_per_booking(before: &[(String, f64)], after: &[(String, f64)], bookings: u64) -> String {
    let each: Vec<(&str, f64)> = after
        .iter()
        .zip(before)
        .map(|(a, b)| (a.0.as_str(), (a.1 - b.1) * 1e3 / bookings.max(1) as f64))
        .collect();
    let total: f64 = each.iter().map(|(_, ms)| ms).sum();
    let each: Vec<String> = each
        .iter()
        .map(|(name, ms)| format!("{name} {ms:.3}"))
        .collect();
    format!("{} = {total:.3} ms", each.join(", "))
}

/// Messages the ORDERS stream has ever stored (its last sequence: nothing is deleted meanwhile).
async fn orders_stored(js: &jetstream::Context) -> u64 {
    let mut stream = js.get_stream(streams::ORDERS).await.expect("ORDERS stream");
    stream
        .info()
        .await
        .expect("stream info")
        .state
        .last_sequence
}

async fn sign_up(web: &str, name: &str) -> TestClient {
    e2e::sign_up_at(web, name, "Load").await
}

async fn create_event(organizer: &TestClient, seats: u32) -> Uuid {
    let res = organizer
        .post(
            "/api/events",
            &json!({
                "title": "Load",
                "description": "Bookings as fast as they go.",
                "category": "music",
                "venue": {"name": "Hall", "address": "1 Main St", "city": "Lisbon", "capacity": seats},
                "dateTime": (chrono::Utc::now() + chrono::Duration::days(20)).to_rfc3339(),
                "duration": 120,
                "ticketTypes": [{"name": "GA", "price": 25.0, "quantity": seats, "description": ""}],
            }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    res.json()["event"]["id"].as_str().unwrap().parse().unwrap()
}

/// Books one ticket; the latency, and the order id when the answer is a 201.
async fn book(client: &TestClient, event: Uuid) -> (Duration, Option<Uuid>) {
    let started = Instant::now();
    let res = client
        .post(
            "/api/tickets/book",
            &json!({"eventId": event, "tickets": [{"ticketType": "GA", "quantity": 1}]}),
        )
        .await;
    let latency = started.elapsed();
    let order = (res.status == 201)
        .then(|| res.json()["orderId"].as_str().and_then(|s| s.parse().ok()))
        .flatten();
    (latency, order)
}

/// Books for `seconds` with `concurrency` requests in flight; returns every latency and how
/// many bookings failed.
async fn burst(
    clients: &[TestClient],
    event: Uuid,
    concurrency: usize,
    seconds: Duration,
) -> (Vec<Duration>, usize) {
    let until = Instant::now() + seconds;
    let workers = (0..concurrency).map(|w| {
        let client = clients[w % clients.len()].clone();
        async move {
            let mut latencies = Vec::new();
            let mut failed = 0;
            while Instant::now() < until {
                let (latency, order) = book(&client, event).await;
                latencies.push(latency);
                failed += usize::from(order.is_none());
            }
            (latencies, failed)
        }
    });
    let results = futures::future::join_all(workers).await;
    let failed = results.iter().map(|r| r.1).sum();
    (results.into_iter().flat_map(|r| r.0).collect(), failed)
}

#[tokio::main]
async fn main() {
    let web = env("WEB_URL");
    let tickets = env("TICKET_SERVICE_URL");
    let payments = env("PAYMENT_SERVICE_URL");
    let seconds = Duration::from_secs(
        std::env::var("BENCH_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(10),
    );
    let nats = async_nats::connect(env("NATS_URL")).await.expect("NATS");
    let js = jetstream::new(nats.clone());

    let organizer = sign_up(&web, "organizer").await;
    // The most seats a ticket type may have; a fresh event per phase keeps them ample.
    const SEATS: u32 = 100_000;
    let event = create_event(&organizer, SEATS).await;
    let mut clients = Vec::new();
    for i in 0..BUYERS {
        let buyer = sign_up(&web, &format!("buyer{i}")).await;
        // Bookings go to the ticket service directly: the benchmark measures the service.
        clients.push(buyer.pointed_at(tickets.clone()));
    }
    // Warm-up: connections, caches, the first fetch of the event from the catalogue.
    burst(&clients, event, 16, Duration::from_secs(1)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;

    println!(
        "bookings, {} s per concurrency, one ticket each:",
        seconds.as_secs()
    );
    let mut booked_per_s_at_top = 0.0;
    for concurrency in LEVELS {
        let event = create_event(&organizer, SEATS).await;
        let before = orders_stored(&js).await;
        let cpu_before = cpu_seconds();
        let started = Instant::now();
        let (mut latencies, failed) = burst(&clients, event, concurrency, seconds).await;
        let booking_time = started.elapsed();
        let booked = (latencies.len() - failed) as u64;
        let backlog = (before + booked).saturating_sub(orders_stored(&js).await);
        // Every orders.created of the burst stored: booked *and* published.
        let drain_limit = Instant::now() + Duration::from_secs(300);
        while orders_stored(&js).await < before + booked {
            assert!(
                Instant::now() < drain_limit,
                "the outbox did not drain within 300 s"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let published_time = started.elapsed();
        let cpu = cpu_per_booking(&cpu_before, &cpu_seconds(), booked);
        latencies.sort();
        let rate = booked as f64 / booking_time.as_secs_f64();
        booked_per_s_at_top = rate;
        println!(
            "  concurrency {concurrency:>2}: {booked} booked ({failed} failed) = {rate:.0}/s, p50 {:.2} ms, p99 {:.2} ms; \
             booked and published {:.0}/s; outbox backlog when booking stopped {backlog}, drained {:.1} s later",
            ms(percentile(&latencies, 0.50)),
            ms(percentile(&latencies, 0.99)),
            booked as f64 / published_time.as_secs_f64(),
            (published_time - booking_time).as_secs_f64(),
        );
        println!("    CPU ms per booking, until published: {cpu}");
    }

    let health = health_rate(&tickets, LEVELS[LEVELS.len() - 1]).await;
    println!(
        "ticket /health at concurrency {}: {health:.0} req/s; bookings at that concurrency are {:.1}% of it",
        LEVELS[LEVELS.len() - 1],
        100.0 * booked_per_s_at_top / health
    );

    // The consumers of the ORDERS stream take the bursts above in order, sharing the two cores:
    // measure one order at a time once they have caught up.
    let started = Instant::now();
    for consumer in ["payment-orders", "notification-orders"] {
        caught_up(&js, streams::ORDERS, consumer).await;
        println!(
            "{consumer} consumer caught up with the bursts {:.1} s after the /health phase",
            started.elapsed().as_secs_f64()
        );
    }
    let event = create_event(&organizer, SEATS).await;
    confirmations(&clients[0], &payments, event, &nats).await;
}

/// Waits (at most five minutes) until `consumer` of `stream` has nothing pending nor unacknowledged.
async fn caught_up(js: &jetstream::Context, stream: &str, consumer: &str) {
    let until = Instant::now() + Duration::from_secs(300);
    let mut consumer: jetstream::consumer::PullConsumer = js
        .get_consumer_from_stream(consumer, stream)
        .await
        .expect("consumer");
    loop {
        let info = consumer.info().await.expect("consumer info");
        if info.num_pending == 0 && info.num_ack_pending == 0 {
            return;
        }
        assert!(Instant::now() < until, "{} did not catch up", info.name);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Requests per second `GET /health` of the ticket service answers with `concurrency` in flight.
async fn health_rate(tickets: &str, concurrency: usize) -> f64 {
    let http = reqwest::Client::new();
    let url = format!("{tickets}/health");
    let until = Instant::now() + Duration::from_secs(3);
    let started = Instant::now();
    let counts = futures::future::join_all((0..concurrency).map(|_| {
        let (http, url) = (http.clone(), url.clone());
        async move {
            let mut n = 0u64;
            while Instant::now() < until {
                let res = http.get(&url).send().await.expect("health");
                assert!(res.status().is_success());
                n += 1;
            }
            n
        }
    }))
    .await;
    counts.iter().sum::<u64>() as f64 / started.elapsed().as_secs_f64()
}

/// Book, pay, and wait for the order's `orders.confirmed` (a subscription, so no polling
/// interval adds to the figure), one order at a time.
async fn confirmations(buyer: &TestClient, payments: &str, event: Uuid, nats: &async_nats::Client) {
    let mut confirmed = nats.subscribe(ORDERS_CONFIRMED).await.expect("subscribe");
    let payer = buyer.pointed_at(payments);
    let mut latencies = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let started = Instant::now();
        let (_, order) = book(buyer, event).await;
        let order = order.expect("booked");
        let paid = payer
            .post("/api/payment/process", &card_body(order, APPROVED_CARD))
            .await;
        assert_eq!(paid.status, 201, "{}", paid.text);
        let needle = order.to_string();
        tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(msg) = confirmed.next().await {
                if std::str::from_utf8(&msg.payload).is_ok_and(|p| p.contains(&needle)) {
                    return;
                }
            }
        })
        .await
        .expect("orders.confirmed within 30 s");
        latencies.push(started.elapsed());
    }
    latencies.sort();
    println!(
        "book -> paid -> confirmed, one at a time ({ROUNDS} orders): p50 {:.2} ms, p99 {:.2} ms",
        ms(percentile(&latencies, 0.50)),
        ms(percentile(&latencies, 0.99)),
    );
}
