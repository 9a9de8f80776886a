//! W3C trace context: the `traceparent` of a request travels with the catalogue facts it
//! causes, so one trace spans HTTP and the broker.

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
    parts
        .headers
        .get(contracts::subjects::headers::TRACEPARENT)
        .and_then(|v| v.to_str().ok())
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The trace id and flags of a well-formed incoming `traceparent`.
fn parse(tp: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = tp.trim().split('-').collect();
    if let [version, trace_id, parent_id, flags] = parts[..]
        && is_hex(version, 2)
        && version != "ff"
        && is_hex(trace_id, 32)
        && trace_id != "0".repeat(32)
        && is_hex(parent_id, 16)
        && is_hex(flags, 2)
    {
        return Some((trace_id, flags));
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

/// Continues the caller's trace; when the caller sent none, starts the trace of `entity`, whose
/// trace id is the entity's id. Every service that works on one order (booking, payment,
/// confirmation) thus joins the same trace without sharing any state.
pub fn continue_or_root(incoming: Option<&str>, entity: Uuid) -> String {
    let span = span_id();
    match incoming.and_then(parse) {
        Some((trace_id, flags)) => format!("00-{trace_id}-{span}-{flags}"),
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
