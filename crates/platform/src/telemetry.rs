//! Process set-up: logging (readable lines locally, JSON lines when `LOG_FORMAT=json`), the
//! metrics recorder behind `GET /metrics`, and, when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, trace
//! export over OTLP/HTTP.
//!
//! Traces follow the W3C `traceparent` that already crosses HTTP and JetStream: a request span
//! continues the caller's trace, a consumed fact's span continues the trace of the request that
//! caused it, and the facts a span publishes carry its own context (see [`crate::trace`]), so one
//! trace shows a booking request, its outbox fact, the payment service consuming it and so on.
//! With the variable unset no exporter exists and spans cost what they always did.

use std::sync::OnceLock;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

static TRACER: OnceLock<SdkTracerProvider> = OnceLock::new();

/// Installs the global subscriber, the metrics recorder (unless `METRICS=off`) and the OTLP
/// trace exporter (when `OTEL_EXPORTER_OTLP_ENDPOINT` is set). `RUST_LOG` filters (default
/// `info`); `LOG_FORMAT=json` switches to one JSON object per line for log shippers. Safe to
/// call more than once (tests): the first call wins.
pub fn init(service: &str) {
    let filter = || {
        EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| EnvFilter::new(format!("info,{service}=info")))
    };
    let json = crate::config::var_or("LOG_FORMAT", "pretty").eq_ignore_ascii_case("json");
    // Colours only for a person at a terminal; `xtask up` pipes and prefixes the output.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let fmt = tracing_subscriber::fmt::layer().with_ansi(ansi);
    let fmt = if json {
        fmt.json()
            .flatten_event(true)
            .with_current_span(true)
            .boxed()
    } else {
        fmt.compact().boxed()
    };
    let otel = otlp_provider(service).map(|provider| {
        let tracer = provider.tracer("ticketing");
        let _ = TRACER.set(provider);
        // The same filter as the logs: libraries' debug spans stay out of the traces too.
        tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_filter(filter())
    });
    let _ = tracing_subscriber::registry()
        .with(fmt.with_filter(filter()))
        .with(otel)
        .try_init();
    crate::metrics::install();
}

/// The exporter, when `OTEL_EXPORTER_OTLP_ENDPOINT` names a collector (spans go to
/// `<endpoint>/v1/traces`, batched on a background thread).
fn otlp_provider(service: &str) -> Option<SdkTracerProvider> {
    crate::config::var_opt("OTEL_EXPORTER_OTLP_ENDPOINT")?;
    let exporter = match opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()
    {
        Ok(exporter) => exporter,
        Err(e) => {
            eprintln!("OTEL_EXPORTER_OTLP_ENDPOINT is set but no exporter could be built: {e}");
            return None;
        }
    };
    Some(
        SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(
                Resource::builder()
                    .with_service_name(service.replace('_', "-"))
                    .build(),
            )
            .build(),
    )
}

/// Whether spans are exported: then trace contexts come from the spans themselves.
pub fn tracing_exported() -> bool {
    TRACER.get().is_some()
}

/// Sends the spans waiting in the batch now (tests, and before a process exits). It blocks
/// until the export is done: call it from a blocking context, not on an async worker.
pub fn flush() {
    if let Some(provider) = TRACER.get() {
        let _ = provider.force_flush();
    }
}
