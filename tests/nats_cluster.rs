//! A flash sale with payments on a three-node NATS cluster (every stream with three replicas)
//! that loses one node to SIGKILL in the middle, and gets it back later. Proves: every booking
//! that got 201 has its `orders.created` in the stream, every completed payment confirmed its
//! order, no fact was lost or applied twice, and sold + held <= capacity. Prints the failover
//! time (the killed node led the ORDERS stream) and how long the node took to catch up.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use async_nats::jetstream;
use e2e::{APPROVED_CARD, DECLINED_CARD, Options, System, try_book, try_pay};
use futures::StreamExt;
use platform::testing::{NatsCluster, StoredEvent, TestClient, stream_events};

const SEATS: u32 = 40;
/// Buyers before the kill (one ticket each): half the seats.
const FIRST_WAVE: usize = 20;
/// Buyers during the failover: more than the seats left.
const SECOND_WAVE: usize = 40;
/// Every fourth buyer's card is declined.
const DECLINE_EVERY: usize = 4;

#[derive(Debug, Default)]
struct Outcome {
    /// The order of a booking answered 201.
    order: Option<String>,
    /// The payment answer's `status` (completed / failed) when the payment was answered 201.
    payment: Option<String>,
}

async fn buy(buyer: TestClient, event: uuid::Uuid, card: &'static str) -> Outcome {
    let res = try_book(&buyer, event, 1).await;
    if res.status == 409 {
        return Outcome::default();
    }
    assert_eq!(res.status, 201, "booking: {}", res.text);
    let order = res.json()["orderId"]
        .as_str()
        .expect("order id")
        .to_string();
    let res = try_pay(&buyer, &order, card).await;
    assert_eq!(res.status, 201, "payment: {}", res.text);
    let payment = res.json()["payment"]["status"].as_str().map(str::to_string);
    Outcome {
        order: Some(order),
        payment,
    }
}

async fn wave(buyers: &[TestClient], first: usize, event: uuid::Uuid) -> Vec<Outcome> {
    futures::stream::iter(buyers.iter().cloned().enumerate())
        .map(|(i, buyer)| {
            let card = if (first + i).is_multiple_of(DECLINE_EVERY) {
                DECLINED_CARD
            } else {
                APPROVED_CARD
            };
            buy(buyer, event, card)
        })
        .buffer_unordered(12)
        .collect()
        .await
}

/// Stream info, bounded: while a stream elects a leader its API may not answer.
async fn stream_info(js: &jetstream::Context, name: &str) -> Option<jetstream::stream::Info> {
    let info = async { js.get_stream(name).await.ok()?.info().await.ok().cloned() };
    tokio::time::timeout(Duration::from_secs(1), info)
        .await
        .ok()
        .flatten()
}

/// Polls `check` until it holds or `limit` passes; returns how long it took.
async fn within<F, Fut>(what: &str, limit: Duration, check: F) -> Duration
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(
            started.elapsed() < limit,
            "{what} did not happen within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    started.elapsed()
}

fn by_subject<'a>(events: &'a [StoredEvent], subject: &str) -> Vec<&'a StoredEvent> {
    events.iter().filter(|e| e.subject == subject).collect()
}

/// The order (envelope subject) of every event with `subject`, each counted.
fn counts(events: &[StoredEvent], subject: &str) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for e in by_subject(events, subject) {
        let order = e.envelope["subject"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        *counts.entry(order).or_default() += 1;
    }
    counts
}

/// Waits (a minute at most) until each of `orders` has its `subject` fact in ORDERS; how long
/// that took.
async fn until_every_order_has(
    js: &jetstream::Context,
    subject: &str,
    orders: &HashSet<String>,
) -> Duration {
    let what = format!("every {subject} in ORDERS");
    within(&what, Duration::from_secs(60), || async {
        let stored = counts(&stream_events(js, "ORDERS").await, subject);
        orders.iter().all(|o| stored.contains_key(o))
    })
    .await
}

#[test]
fn a_flash_sale_with_payments_survives_the_loss_of_one_nats_node() {
    // The services create every stream with three replicas.
    platform::testing::with_stream_replicas(3, flash_sale_losing_a_node());
}

async fn flash_sale_losing_a_node() {
    let started = Instant::now();
    let mut cluster = NatsCluster::start(3);
    cluster.wait_for_jetstream().await;
    let system = System::start_with(Options {
        nats_url: Some(cluster.url()),
        ..Options::default()
    })
    .await;
    let js = system.js.clone();
    for stream in ["ORDERS", "PAYMENTS"] {
        let info = stream_info(&js, stream).await.expect("stream info");
        assert_eq!(info.config.num_replicas, 3, "{stream}");
    }

    let (_, event) = system
        .organizer_with_event(&[("General", 25.0, SEATS)])
        .await;
    let mut buyers = Vec::new();
    for _ in 0..FIRST_WAVE + SECOND_WAVE {
        buyers.push(system.sign_up("Buyer").await);
    }

    let mut outcomes = wave(&buyers[..FIRST_WAVE], 0, event).await;

    // Kill the node that leads ORDERS: the stream every booking publishes to.
    let leader = stream_info(&js, "ORDERS")
        .await
        .and_then(|i| i.cluster)
        .and_then(|c| c.leader)
        .expect("ORDERS has a leader");
    let victim = (0..3)
        .find(|i| cluster.name(*i) == leader)
        .expect("a node of ours");
    cluster.kill(victim);
    let killed_at = Instant::now();
    println!("killed {leader} (ORDERS leader) with SIGKILL after the first {FIRST_WAVE} buyers");

    // The second wave buys while the cluster fails over.
    let (second, failover) = tokio::join!(wave(&buyers[FIRST_WAVE..], FIRST_WAVE, event), async {
        within("a new ORDERS leader", Duration::from_secs(30), || async {
            stream_info(&js, "ORDERS")
                .await
                .and_then(|i| i.cluster)
                .and_then(|c| c.leader)
                .is_some_and(|l| l != leader)
        })
        .await
    });
    outcomes.extend(second);
    println!(
        "failover: ORDERS had a new leader {:.2} s after the SIGKILL; the second wave took {:.1} s",
        failover.as_secs_f64(),
        killed_at.elapsed().as_secs_f64()
    );

    // Every booking's orders.created reached the stream (the outbox relays until acked).
    let booked: HashSet<String> = outcomes.iter().filter_map(|o| o.order.clone()).collect();
    let paid: HashSet<String> = outcomes
        .iter()
        .filter(|o| o.payment.as_deref() == Some("completed"))
        .filter_map(|o| o.order.clone())
        .collect();
    let declined = outcomes
        .iter()
        .filter(|o| o.payment.as_deref() == Some("failed"))
        .count();
    assert!(!booked.is_empty() && !paid.is_empty() && declined > 0);
    let all_created = until_every_order_has(&js, "orders.created", &booked).await;
    // Every completed payment confirmed its order.
    until_every_order_has(&js, "orders.confirmed", &paid).await;
    println!(
        "all {} bookings in ORDERS {:.2} s after the second wave; {} paid, {declined} declined",
        booked.len(),
        all_created.as_secs_f64(),
        paid.len()
    );

    // The killed node comes back and catches up.
    cluster.restart(victim);
    let restarted_at = Instant::now();
    let victim_name = cluster.name(victim).to_string();
    let caught_up = within(
        "the restarted node to be current",
        Duration::from_secs(60),
        || async {
            stream_info(&js, "ORDERS")
                .await
                .and_then(|i| i.cluster)
                .is_some_and(|c| {
                    c.leader.as_deref() == Some(victim_name.as_str())
                        || c.replicas
                            .iter()
                            .any(|r| r.name == victim_name && r.current)
                })
        },
    )
    .await;
    println!(
        "{victim_name} back and current on ORDERS {:.2} s after its restart ({:.1} s after the kill)",
        caught_up.as_secs_f64(),
        (restarted_at - killed_at).as_secs_f64()
    );

    // No fact lost or applied twice.
    let orders = stream_events(&js, "ORDERS").await;
    let payments = stream_events(&js, "PAYMENTS").await;
    for (name, events) in [("ORDERS", &orders), ("PAYMENTS", &payments)] {
        let ids: Vec<_> = events.iter().filter_map(|e| e.msg_id.clone()).collect();
        let unique: HashSet<_> = ids.iter().collect();
        assert_eq!(
            ids.len(),
            events.len(),
            "{name}: every event has a Nats-Msg-Id"
        );
        assert_eq!(unique.len(), ids.len(), "{name}: an event was stored twice");
    }
    let created = counts(&orders, "orders.created");
    let confirmed = counts(&orders, "orders.confirmed");
    let completed = counts(&payments, "payments.completed");
    for (what, counted, expected) in [
        ("an order was created", &created, &booked),
        ("an order was confirmed", &confirmed, &paid),
        ("a payment completed", &completed, &paid),
    ] {
        assert_eq!(&counted.keys().cloned().collect::<HashSet<_>>(), expected);
        assert!(counted.values().all(|n| *n == 1), "{what} twice");
    }
    assert_eq!(by_subject(&payments, "payments.failed").len(), declined);
    assert!(by_subject(&payments, "payments.refunded").is_empty());

    // Seats: each confirmed once, none oversold.
    let stock = e2e::stock(&system.browser(), event).await;
    let (sold, held) = (
        stock["sold"].as_u64().unwrap(),
        stock["held"].as_u64().unwrap(),
    );
    println!("sold {sold}, held {held} of {SEATS} seats");
    assert!(sold + held <= u64::from(SEATS));
    assert_eq!(sold, paid.len() as u64);
    assert_eq!(sold + held, booked.len() as u64);
    println!("cluster test took {:.1} s", started.elapsed().as_secs_f64());
}
