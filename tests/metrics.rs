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

    let ticket = eventually("the ticket service to count the confirmation", || async {
        let s = scrape(&tickets).await;
        (value(&s, "ticket_order_transitions_total", &[("to", "confirmed")]) == 1.0).then_some(s)
    })
    .await;
    assert_eq!(
        value(&ticket, "ticket_bookings_total", &[("outcome", "created")]),
        1.0
    );
    assert_eq!(
        value(
            &ticket,
            "http_requests_total",
            &[
                ("service", "ticket-service"),
                ("method", "POST"),
                ("route", "/api/tickets/book"),
                ("status", "201"),
            ]
        ),
        1.0
    );
    assert_eq!(
        value(
            &ticket,
            "http_request_duration_seconds",
            &[
                ("service", "ticket-service"),
                ("route", "/api/tickets/book")
            ]
        ),
        1.0,
        "one booking timed"
    );
    assert!(
        value(
            &ticket,
            "consumer_messages_total",
            &[("consumer", "ticket-payments"), ("outcome", "processed")]
        ) >= 1.0
    );
    // Checked locally or, for a session the copy did not have yet, by the auth service.
    assert!(value(&ticket, "sessions_verified_total", &[("outcome", "valid")]) >= 2.0);

    let payment = eventually("the payment relay to publish and measure", || async {
        let s = scrape(&payments).await;
        (value(
            &s,
            "outbox_published_total",
            &[("service", "payment-service")],
        ) >= 1.0)
            .then_some(s)
    })
    .await;
    assert_eq!(
        value(&payment, "payments_total", &[("outcome", "completed")]),
        1.0
    );
    assert!(
        value(
            &payment,
            "consumer_messages_total",
            &[("consumer", "payment-orders"), ("outcome", "processed")]
        ) >= 1.0
    );
    // Every relay reports its backlog; after a quiet moment nothing waits.
    let drained = eventually("the ticket outbox to drain", || async {
        let s = scrape(&tickets).await;
        let has_gauge = s.samples.iter().any(|x| {
            x.metric == "outbox_backlog" && x.labels.get("service") == Some("ticket-service")
        });
        (has_gauge && value(&s, "outbox_backlog", &[("service", "ticket-service")]) == 0.0)
            .then_some(s)
    })
    .await;
    assert_eq!(
        value(
            &drained,
            "outbox_oldest_age_seconds",
            &[("service", "ticket-service")]
        ),
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
