//! With `OTEL_EXPORTER_OTLP_ENDPOINT` set, spans go to an OTLP receiver, and one order's trace
//! spans the gateway, the ticket service and the payment service: the traceparent crosses HTTP
//! and the outbox facts on JetStream.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use e2e::{System, paid_order};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value;
use platform::testing::eventually;
use prost::Message;

/// One received span: its trace, name and string attributes (with the resource's service).
#[derive(Debug, Clone)]
struct ReceivedSpan {
    trace_id: String,
    name: String,
    attributes: HashMap<String, String>,
}

type Received = Arc<Mutex<Vec<ReceivedSpan>>>;

/// `POST /v1/traces` as an OTLP/HTTP collector answers it: protobuf in, empty answer out.
async fn receive(State(received): State<Received>, body: Bytes) -> &'static str {
    let request = ExportTraceServiceRequest::decode(body).expect("an OTLP trace export");
    let mut spans = received.lock().unwrap();
    for resource in request.resource_spans {
        for scope in resource.scope_spans {
            for span in scope.spans {
                let attributes = span
                    .attributes
                    .iter()
                    .filter_map(|kv| match kv.value.as_ref()?.value.as_ref()? {
                        any_value::Value::StringValue(s) => Some((kv.key.clone(), s.clone())),
                        _ => None,
                    })
                    .collect();
                spans.push(ReceivedSpan {
                    trace_id: hex(&span.trace_id),
                    name: span.name.clone(),
                    attributes,
                });
            }
        }
    }
    ""
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Who made a span: a request span names its service, a consumer span its consumer.
fn origin(span: &ReceivedSpan) -> Option<String> {
    span.attributes
        .get("service")
        .or_else(|| span.attributes.get("consumer"))
        .cloned()
}

// Several threads: the exporter's blocking HTTP call must reach the receiver, which runs on
// this test's runtime, while a flush waits for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_order_is_one_trace_across_the_gateway_the_ticket_and_the_payment_service() {
    let received: Received = Arc::default();
    let receiver = platform::testing::TestServer::spawn(
        axum::Router::new()
            .route("/v1/traces", post(receive))
            .with_state(received.clone()),
    )
    .await;
    // SAFETY: this is the binary's only test, and nothing else reads the environment yet: the
    // runtime's other worker only serves the receiver.
    unsafe {
        std::env::set_var("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url());
        std::env::set_var("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf");
    }
    platform::telemetry::init("e2e");
    assert!(platform::telemetry::tracing_exported());

    let system = System::start().await;
    let (_, event) = system.organizer_with_event(&[("General", 25.0, 10)]).await;
    paid_order(&system, event, 1).await;

    // The booking's trace: the gateway's request, the ticket service's request, and the payment
    // service consuming the `orders.created` it published.
    let booking_trace = ["gateway", "ticket-service", "payment-orders"];
    // The payment's trace: the gateway, the payment service's request, and the ticket service
    // consuming its `payments.completed` to confirm the order.
    let payment_trace = ["gateway", "payment-service", "ticket-payments"];
    let traces = eventually("both traces to reach the receiver", || async {
        tokio::task::spawn_blocking(platform::telemetry::flush)
            .await
            .expect("flush");
        let spans = received.lock().unwrap().clone();
        let mut by_trace: HashMap<String, BTreeSet<String>> = HashMap::new();
        for span in &spans {
            if let Some(origin) = origin(span) {
                by_trace
                    .entry(span.trace_id.clone())
                    .or_default()
                    .insert(origin);
            }
        }
        let has = |wanted: &[&str]| {
            by_trace
                .values()
                .any(|origins| wanted.iter().all(|w| origins.contains(*w)))
        };
        (has(&booking_trace) && has(&payment_trace)).then_some(spans)
    })
    .await;
    assert!(
        traces.iter().any(|s| s.name == "request") && traces.iter().any(|s| s.name == "consume"),
        "request and consume spans"
    );
}
