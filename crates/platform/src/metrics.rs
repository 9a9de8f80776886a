//! Prometheus metrics: one recorder per process, `GET /metrics` on every service, and the names
//! of everything the platform counts.
//!
//! Services record through the `metrics` macros re-exported here (`counter!`, `gauge!`,
//! `histogram!`): each is a handful of atomic operations on a sharded registry, with no lock
//! held across requests and no allocation for `&'static str` labels. A process runs one service
//! in production; when tests or the benchmark run several in one process, the shared mechanisms
//! (HTTP, outbox, consumers) carry a `service` or `consumer` label, and the domain counters have
//! names of their own, so nothing mixes.
//!
//! `METRICS=off` leaves the recorder out: the macros then cost a check of an unset global and
//! `/metrics` answers 404.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub use metrics::{counter, gauge, histogram};

use crate::error::ApiError;

/// Every metric the platform and its services record, in one place so that dashboards, tests
/// and code agree on the spelling.
pub mod names {
    /// Counter `{service, method, route, status}`; `route` is the route template, never the raw path.
    pub const HTTP_REQUESTS: &str = "http_requests_total";
    /// Histogram `{service, method, route}` in seconds.
    pub const HTTP_DURATION: &str = "http_request_duration_seconds";
    /// Counter `{outcome}`: `created`, `sold_out`, `rejected` (bad input, unknown event, closed sale).
    pub const BOOKINGS: &str = "ticket_bookings_total";
    /// Counter `{to}`: orders entering a state (`confirmed`, `cancelled`, `refunded`), with `reason`.
    pub const ORDER_TRANSITIONS: &str = "ticket_order_transitions_total";
    /// Gauge: server-sent-event streams open right now.
    pub const SSE_CONNECTIONS: &str = "ticket_live_connections";
    /// Counter `{outcome}`: `completed`, `failed` (declined or refused by the provider).
    pub const PAYMENTS: &str = "payments_total";
    /// Counter `{reason}`: refunds the payment service made.
    pub const REFUNDS: &str = "payment_refunds_total";
    /// Counter `{result}`: the door's decisions by result, one per scan (a replayed nonce is not
    /// counted again).
    pub const CHECKINS: &str = "ticket_checkins_total";
    /// Counter `{kind, outcome}`: mails `sent`, `retried` (SMTP away for now) or `failed`.
    pub const MAILS: &str = "notification_mails_total";
    /// Gauge `{service}`: unpublished outbox rows.
    pub const OUTBOX_BACKLOG: &str = "outbox_backlog";
    /// Gauge `{service}`: age in seconds of the oldest unpublished outbox row (0 when none).
    pub const OUTBOX_OLDEST_AGE: &str = "outbox_oldest_age_seconds";
    /// Counter `{service}`: facts the relay published.
    pub const OUTBOX_PUBLISHED: &str = "outbox_published_total";
    /// Counter `{consumer, outcome}`: `processed`, `retried`, `dead_lettered`.
    pub const CONSUMER_MESSAGES: &str = "consumer_messages_total";
    /// Gauge `{consumer}`: messages the consumer has not received yet, as of its last delivery.
    pub const CONSUMER_PENDING: &str = "consumer_pending_messages";
    /// Counter `{via, outcome}`: session checks, `via` = `auth_service` (a call) or `local`.
    pub const SESSIONS_VERIFIED: &str = "sessions_verified_total";

    /// Every name above: the dashboard shows each.
    pub const ALL: [&str; 15] = [
        HTTP_REQUESTS,
        HTTP_DURATION,
        BOOKINGS,
        ORDER_TRANSITIONS,
        SSE_CONNECTIONS,
        PAYMENTS,
        REFUNDS,
        CHECKINS,
        MAILS,
        OUTBOX_BACKLOG,
        OUTBOX_OLDEST_AGE,
        OUTBOX_PUBLISHED,
        CONSUMER_MESSAGES,
        CONSUMER_PENDING,
        SESSIONS_VERIFIED,
    ];
}

/// Latency buckets in seconds: from a cached read (well under a millisecond) to a timeout.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// How often histogram samples are folded into buckets when nobody scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process's recorder once (later calls return the same answer): `true` when
/// metrics are recorded. Off with `METRICS=off`.
pub fn install() -> bool {
    HANDLE
        .get_or_init(|| {
            let enabled = crate::config::bool_or("METRICS", true).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "METRICS not understood; metrics stay on");
                true
            });
            enabled.then(install_recorder).flatten()
        })
        .is_some()
}

fn install_recorder() -> Option<PrometheusHandle> {
    let built = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(names::HTTP_DURATION.to_string()),
            LATENCY_BUCKETS,
        )
        .and_then(|b| b.install_recorder());
    match built {
        Ok(handle) => {
            let upkeep = handle.clone();
            // A plain thread: it outlives any one async runtime (tests start several).
            std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(UPKEEP_EVERY);
                        upkeep.run_upkeep();
                    }
                })
                .ok()?;
            Some(handle)
        }
        Err(e) => {
            // Another recorder was installed first (a test harness, say): keep running without.
            tracing::warn!(error = %e, "metrics recorder not installed");
            None
        }
    }
}

/// `GET /metrics`: the Prometheus text format.
pub async fn render() -> Response {
    match HANDLE.get().and_then(Option::as_ref) {
        Some(handle) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            handle.render(),
        )
            .into_response(),
        None => {
            ApiError::not_found("Metrics are off in this process (METRICS=off).").into_response()
        }
    }
}

/// Records one answered request.
pub fn record_request(
    service: &'static str,
    method: &axum::http::Method,
    route: &str,
    status: StatusCode,
    started: Instant,
) {
    let method = method_label(method);
    // One copy of the route, shared by both metrics' labels.
    let route = metrics::SharedString::from_shared(std::sync::Arc::<str>::from(route));
    counter!(names::HTTP_REQUESTS,
        "service" => service,
        "method" => method,
        "route" => route.clone(),
        "status" => status_label(status),
    )
    .increment(1);
    histogram!(names::HTTP_DURATION, "service" => service, "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
}

/// Static labels for the usual methods, so they cost no allocation.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

fn status_label(status: StatusCode) -> &'static str {
    // Every status an axum service answers with has a static name; the rare rest share one.
    match status.as_u16() {
        200 => "200",
        201 => "201",
        202 => "202",
        204 => "204",
        301 => "301",
        302 => "302",
        303 => "303",
        304 => "304",
        307 => "307",
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        405 => "405",
        409 => "409",
        410 => "410",
        413 => "413",
        415 => "415",
        422 => "422",
        429 => "429",
        500 => "500",
        502 => "502",
        503 => "503",
        504 => "504",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_label_is_its_code_or_other() {
        for code in 100..600u16 {
            let status = StatusCode::from_u16(code).unwrap();
            let label = status_label(status);
            assert!(label == "other" || label == code.to_string(), "{code}");
        }
        assert_eq!(status_label(StatusCode::CONFLICT), "409");
    }
}
