//! `GET /metrics` on every service: Prometheus text that a Prometheus parser reads, and the
//! counters an operator watches move when a buyer books and pays.

use e2e::{System, paid_order};
use platform::testing::{TestClient, eventually};
use prometheus_parse::{Sample, Scrape, Value};

/// Scrapes `base/metrics` and parses it as Prometheus text.
async fn scrape(base: &str) -> Scrape {
    let res = TestClient::new(base.to_string()).get("/metrics").await;
    assert_eq!(res.status, 200, "{}", res.text);
    let lines = res.text.lines().map(|l| Ok(l.to_string()));
    Scrape::parse(lines).expect("Prometheus text format")
}

/// The value of the sample `name` whose labels include all of `labels` (0 when there is none).
fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|s: &&Sample| s.metric == name)
        .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => v,
            Value::Histogram(ref buckets) => buckets.last().map_or(0.0, |b| b.count),
            Value::Summary(_) => 0.0,
        })
        .sum()
}

/// Labels a sample must carry, as `(name, value)`.
type Labels<'a> = &'a [(&'a str, &'a str)];

/// Scrapes `base` until `ready` holds for the scrape (or fails, naming `what`); that scrape.
async fn scrape_until(base: &str, what: &str, ready: impl Fn(&Scrape) -> bool) -> Scrape {
    eventually(what, || async {
        let s = scrape(base).await;
        ready(&s).then_some(s)
    })
    .await
}

/// Asserts that each `(metric, labels, value)` has exactly that value in `scrape`.
fn assert_exactly(scrape: &Scrape, expected: &[(&str, Labels, f64)]) {
    for &(name, labels, expected) in expected {
        assert_eq!(value(scrape, name, labels), expected, "{name} {labels:?}");
    }
}

/// Asserts that each `(metric, labels, value)` has at least that value in `scrape`.
fn assert_at_least(scrape: &Scrape, expected: &[(&str, Labels, f64)]) {
    for &(name, labels, least) in expected {
        let got = value(scrape, name, labels);
        assert!(got >= least, "{name} {labels:?}: {got} < {least}");
    }
}

#[tokio::test]
async fn a_booking_a_payment_and_a_consumed_fact_move_the_counters_operators_watch() {
    assert!(platform::metrics::install(), "metrics are on by default");
    let system = System::start().await;
    let (_, event) = system.organizer_with_event(&[("General", 25.0, 10)]).await;

    let tickets = system.tickets.url();
    let payments = system.payments.url();
    let before = scrape(&tickets).await;
    assert_eq!(value(&before, "ticket_bookings_total", &[]), 0.0);

    paid_order(&system, event, 2).await;

    let ticket = scrape_until(
        &tickets,
        "the ticket service to count the confirmation",
        |s| value(s, "ticket_order_transitions_total", &[("to", "confirmed")]) == 1.0,
    )
    .await;
    let booked: Labels = &[
        ("service", "ticket-service"),
        ("method", "POST"),
        ("route", "/api/tickets/book"),
        ("status", "201"),
    ];
    assert_exactly(
        &ticket,
        &[
            ("ticket_bookings_total", &[("outcome", "created")], 1.0),
            ("http_requests_total", booked, 1.0),
            // One booking timed.
            (
                "http_request_duration_seconds",
                &[
                    ("service", "ticket-service"),
                    ("route", "/api/tickets/book"),
                ],
                1.0,
            ),
        ],
    );
    assert_at_least(
        &ticket,
        &[
            (
                "consumer_messages_total",
                &[("consumer", "ticket-payments"), ("outcome", "processed")],
                1.0,
            ),
            // Checked locally or, for a session the copy did not have yet, by the auth service.
            ("sessions_verified_total", &[("outcome", "valid")], 2.0),
        ],
    );

    let payment_service: Labels = &[("service", "payment-service")];
    let payment = scrape_until(&payments, "the payment relay to publish and measure", |s| {
        value(s, "outbox_published_total", payment_service) >= 1.0
    })
    .await;
    let completed: Labels = &[("outcome", "completed")];
    assert_eq!(value(&payment, "payments_total", completed), 1.0);
    let orders_consumed: Labels = &[("consumer", "payment-orders"), ("outcome", "processed")];
    assert!(value(&payment, "consumer_messages_total", orders_consumed) >= 1.0);
    // Every relay reports its backlog; after a quiet moment nothing waits.
    let ticket_service: Labels = &[("service", "ticket-service")];
    let drained = scrape_until(&tickets, "the ticket outbox to drain", |s| {
        let has_gauge = s.samples.iter().any(|x| {
            x.metric == "outbox_backlog" && x.labels.get("service") == Some("ticket-service")
        });
        has_gauge && value(s, "outbox_backlog", ticket_service) == 0.0
    })
    .await;
    assert_eq!(
        value(&drained, "outbox_oldest_age_seconds", ticket_service),
        0.0
    );
}

#[tokio::test]
async fn a_path_nobody_routes_is_counted_under_one_label() {
    platform::metrics::install();
    let system = System::start().await;
    let client = TestClient::new(system.tickets.url());
    for n in 0..5 {
        assert_eq!(client.get(&format!("/probe/{n}")).await.status, 404);
    }
    let s = scrape(&system.tickets.url()).await;
    assert!(
        value(
            &s,
            "http_requests_total",
            &[("route", "<unmatched>"), ("status", "404")]
        ) >= 5.0
    );
    assert!(
        !s.samples.iter().any(|x| x
            .labels
            .get("route")
            .is_some_and(|r| r.starts_with("/probe"))),
        "raw paths never become labels"
    );
}
