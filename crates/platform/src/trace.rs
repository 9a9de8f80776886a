//! W3C trace context: the `traceparent` of a request travels with the catalogue facts it
//! causes, so one trace spans HTTP and the broker.
//!
//! When spans are exported (see [`crate::telemetry`]), the context written into facts is the
//! current span's, so the spans of the services that consume them join the exported trace.
//! Otherwise it is made here: the caller's trace with a new span id, or a trace rooted at the
//! entity (an order's id), so that every service working on one order shares one trace id.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use uuid::Uuid;

/// The caller's trace continued with a new span id, or a new trace when it sent none (or a
/// malformed one).
pub struct TraceParent(pub String);

impl<S: Send + Sync> FromRequestParts<S> for TraceParent {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(TraceParent(continue_trace(traceparent_header(parts))))
    }
}

/// The request's `traceparent` header, if it is readable text.
fn traceparent_header(parts: &Parts) -> Option<&str> {
    header(&parts.headers)
}

/// The `traceparent` among `headers`, if it is readable text.
pub fn header(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(contracts::subjects::headers::TRACEPARENT)
        .and_then(|v| v.to_str().ok())
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The trace id, parent span id and flags of a well-formed incoming `traceparent`.
fn parse(tp: &str) -> Option<(&str, &str, &str)> {
    let parts: Vec<&str> = tp.trim().split('-').collect();
    if let [version, trace_id, parent_id, flags] = parts[..]
        && is_hex(version, 2)
        && version != "ff"
        && is_hex(trace_id, 32)
        && trace_id != "0".repeat(32)
        && is_hex(parent_id, 16)
        && is_hex(flags, 2)
    {
        return Some((trace_id, parent_id, flags));
    }
    None
}

fn span_id() -> String {
    Uuid::new_v4().simple().to_string()[..16].to_string()
}

/// `00-<trace id>-<new span id>-<flags>`.
pub fn continue_trace(incoming: Option<&str>) -> String {
    continue_or_root(incoming, Uuid::new_v4())
}

/// The current span's context as a `traceparent`, when spans are exported: what a call to
/// another service carries so that its spans join this trace.
pub fn current() -> Option<String> {
    use opentelemetry::trace::TraceContextExt as _;
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    if !crate::telemetry::tracing_exported() {
        return None;
    }
    let cx = tracing::Span::current().context();
    let span = cx.span();
    let sc = span.span_context();
    sc.is_valid().then(|| {
        format!(
            "00-{}-{}-{:02x}",
            sc.trace_id(),
            sc.span_id(),
            sc.trace_flags().to_u8()
        )
    })
}

/// Makes `span` a child of the remote span named by `traceparent` (a request's header, a
/// consumed fact's header), when spans are exported and the value is well formed. Call it
/// before the span is first entered.
pub fn follow(span: &tracing::Span, traceparent: Option<&str>) {
    use opentelemetry::trace::{
        SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
    };
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    if !crate::telemetry::tracing_exported() {
        return;
    }
    let Some(tp) = traceparent else { return };
    let Some((trace_id, parent_id, flags)) = parse(tp) else {
        return;
    };
    let (Ok(trace_id), Ok(span_id), Ok(flags)) = (
        TraceId::from_hex(trace_id),
        SpanId::from_hex(parent_id),
        u8::from_str_radix(flags, 16),
    ) else {
        return;
    };
    let remote = SpanContext::new(
        trace_id,
        span_id,
        TraceFlags::new(flags),
        true,
        TraceState::default(),
    );
    let _ = span.set_parent(opentelemetry::Context::new().with_remote_span_context(remote));
}

/// Continues the caller's trace; when the caller sent none, starts the trace of `entity`, whose
/// trace id is the entity's id. Every service that works on one order (booking, payment,
/// confirmation) thus joins the same trace without sharing any state.
pub fn continue_or_root(incoming: Option<&str>, entity: Uuid) -> String {
    if let Some(current) = current() {
        return current;
    }
    let span = span_id();
    match incoming.and_then(parse) {
        Some((trace_id, _, flags)) => format!("00-{trace_id}-{span}-{flags}"),
        None => format!("00-{}-{span}-01", entity.simple()),
    }
}

/// The caller's `traceparent` header as it was sent, if any.
pub struct IncomingTrace(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IncomingTrace {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(IncomingTrace(traceparent_header(parts).map(str::to_string)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_incoming_trace_is_continued_with_a_new_span() {
        let tp = continue_trace(Some(
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        ));
        assert!(tp.starts_with("00-0af7651916cd43dd8448eb211c80319c-"));
        assert!(!tp.contains("b7ad6b7169203331"));
        assert!(tp.ends_with("-01"));
    }

    #[test]
    fn without_an_incoming_trace_the_entity_roots_it() {
        let order = Uuid::now_v7();
        let tp = continue_or_root(None, order);
        assert!(tp.starts_with(&format!("00-{}-", order.simple())));
        let again = continue_or_root(Some("garbage"), order);
        assert_eq!(tp[..35], again[..35], "same trace id for the same order");
        let caller = continue_or_root(
            Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
            order,
        );
        assert!(caller.starts_with("00-0af7651916cd43dd8448eb211c80319c-"));
    }

    #[test]
    fn a_missing_or_malformed_trace_starts_a_new_one() {
        for incoming in [None, Some("garbage"), Some("00-xyz-b7ad6b7169203331-01")] {
            let tp = continue_trace(incoming);
            let parts: Vec<&str> = tp.split('-').collect();
            assert_eq!(parts.len(), 4, "{tp}");
            assert!(is_hex(parts[1], 32) && is_hex(parts[2], 16), "{tp}");
        }
    }
}
