//! The event envelope: CloudEvents 1.0 in structured JSON mode, readable in `nats stream view`.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "{T}Envelope")]
pub struct Envelope<T> {
    /// The CloudEvents version, always `1.0`.
    pub specversion: String,
    /// Unique per event; also the `Nats-Msg-Id` header.
    pub id: Uuid,
    /// The subject the event is published on, e.g. `orders.created`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The service that produced it, e.g. `ticket-service`.
    pub source: String,
    /// The entity the event is about (order id, event id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// When the fact happened (RFC 3339, UTC).
    pub time: DateTime<Utc>,
    /// Always `application/json`.
    pub datacontenttype: String,
    /// The fact itself.
    pub data: T,
}

impl<T> Envelope<T> {
    pub fn new(kind: &str, source: &str, subject: Option<String>, data: T) -> Self {
        Self {
            specversion: "1.0".into(),
            id: Uuid::now_v7(),
            kind: kind.into(),
            source: source.into(),
            subject,
            time: Utc::now(),
            datacontenttype: "application/json".into(),
            data,
        }
    }
}

/// The aggregate a serialized envelope is about: its `subject` (an order, an event), else
/// `fallback` (the NATS subject: facts about no particular entity keep one order among
/// themselves). Reads only that field, borrowing it from `payload` where it can.
pub fn aggregate_of<'a>(payload: &'a [u8], fallback: &'a str) -> Cow<'a, str> {
    #[derive(Deserialize)]
    struct Head<'a> {
        #[serde(borrow, default)]
        subject: Option<Cow<'a, str>>,
    }
    serde_json::from_slice::<Head>(payload)
        .ok()
        .and_then(|h| h.subject)
        .unwrap_or(Cow::Borrowed(fallback))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_aggregate_is_the_envelope_subject_or_else_the_fallback() {
        let about_order = Envelope::new("orders.created", "t", Some("o-1".into()), 1);
        let about_nothing = Envelope::new("catalog.x", "t", None, 1);
        let about_order = serde_json::to_vec(&about_order).unwrap();
        let about_nothing = serde_json::to_vec(&about_nothing).unwrap();
        assert_eq!(aggregate_of(&about_order, "orders.created"), "o-1");
        assert_eq!(aggregate_of(&about_nothing, "catalog.x"), "catalog.x");
        assert_eq!(aggregate_of(b"not json", "x.y"), "x.y");
    }

    #[test]
    fn an_envelope_serialises_as_structured_cloudevents_json() {
        let e = Envelope::new(
            "orders.created",
            "ticket-service",
            Some("o-1".into()),
            serde_json::json!({"x": 1}),
        );
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["specversion"], "1.0");
        assert_eq!(v["type"], "orders.created");
        assert_eq!(v["source"], "ticket-service");
        assert_eq!(v["subject"], "o-1");
        assert_eq!(v["data"]["x"], 1);
        let back: Envelope<serde_json::Value> = serde_json::from_value(v).unwrap();
        assert_eq!(back, e);
    }
}
