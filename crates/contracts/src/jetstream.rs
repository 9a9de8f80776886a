//! The JSON definitions under `nats/`, exactly as the NATS CLI takes them.
//!
//! Each file is named after what it defines (`streams/NAME.json`, `consumers/STREAM/NAME.json`,
//! `buckets/NAME.json`), so the macros below take the name once and find the file from it.

use std::sync::LazyLock;

/// `(name, config JSON)` of the definition `nats/<folder>/<name>.json`.
macro_rules! definition {
    ($folder:literal, $name:literal) => {
        (
            $name,
            include_str!(concat!("../../../nats/", $folder, "/", $name, ".json")),
        )
    };
}

/// The durable consumer `name` of `stream`, defined in `nats/consumers/<stream>/<name>.json`.
macro_rules! consumer {
    ($stream:literal, $name:literal) => {
        ConsumerDef {
            stream: $stream,
            name: $name,
            json: include_str!(concat!(
                "../../../nats/consumers/",
                $stream,
                "/",
                $name,
                ".json"
            )),
        }
    };
}

/// `(stream name, stream config JSON)`.
pub const STREAMS: &[(&str, &str)] = &[
    definition!("streams", "ORDERS"),
    definition!("streams", "PAYMENTS"),
    definition!("streams", "CATALOG"),
    definition!("streams", "TICKETS"),
    definition!("streams", "DEAD_LETTERS"),
];

/// A durable consumer definition: the stream it reads and its config JSON.
#[derive(Debug, Clone, Copy)]
pub struct ConsumerDef {
    pub stream: &'static str,
    pub name: &'static str,
    pub json: &'static str,
}

/// The ticket service's view of payment results.
pub const TICKET_PAYMENTS: ConsumerDef = consumer!("PAYMENTS", "ticket-payments");

/// The ticket service's view of catalogue changes.
pub const TICKET_CATALOG: ConsumerDef = consumer!("CATALOG", "ticket-catalog");

/// The payment service's projection of orders.
pub const PAYMENT_ORDERS: ConsumerDef = consumer!("ORDERS", "payment-orders");

/// The notification service's view of orders (buyer, lines, hold) and the mails they cause.
pub const NOTIFICATION_ORDERS: ConsumerDef = consumer!("ORDERS", "notification-orders");

/// The notification service's view of payment results (declines, refunds).
pub const NOTIFICATION_PAYMENTS: ConsumerDef = consumer!("PAYMENTS", "notification-payments");

/// The notification service's view of the catalogue (what an event is, when it moves or ends).
pub const NOTIFICATION_CATALOG: ConsumerDef = consumer!("CATALOG", "notification-catalog");

/// The notification service's view of waitlist offers (mailed to the entry's buyer).
pub const NOTIFICATION_TICKETS: ConsumerDef = consumer!("TICKETS", "notification-tickets");

pub const CONSUMERS: &[ConsumerDef] = &[
    TICKET_PAYMENTS,
    TICKET_CATALOG,
    PAYMENT_ORDERS,
    NOTIFICATION_ORDERS,
    NOTIFICATION_PAYMENTS,
    NOTIFICATION_CATALOG,
    NOTIFICATION_TICKETS,
];

/// The key-value bucket of session records (`KV_SESSIONS`: a bucket is a stream): the auth
/// service writes it, every other service keeps a local copy of it.
pub const SESSIONS_BUCKET: (&str, &str) = definition!("buckets", "KV_SESSIONS");

/// The key-value bucket of the ticket service's waiting rooms (`KV_WAITING_ROOM`): visitors'
/// entries, each event's sale settings, used passes and the pass key, shared by its replicas.
pub const WAITING_ROOM_BUCKET: (&str, &str) = definition!("buckets", "KV_WAITING_ROOM");

/// Every key-value bucket, as `nats/buckets/` defines it.
pub const BUCKETS: &[(&str, &str)] = &[SESSIONS_BUCKET, WAITING_ROOM_BUCKET];

/// Whether a NATS subject matches a filter with `*` and `>` wildcards.
pub fn subject_matches(filter: &str, subject: &str) -> bool {
    let mut f = filter.split('.');
    let mut s = subject.split('.');
    loop {
        match (f.next(), s.next()) {
            (Some(">"), Some(_)) => return true,
            (Some("*"), Some(_)) => {}
            (Some(a), Some(b)) if a == b => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

/// The stream of `nats/streams/` that stores `subject`, if any.
pub fn stream_of(subject: &str) -> Option<&'static str> {
    /// Each stream's subject filters, read from its definition once.
    static FILTERS: LazyLock<Vec<(&'static str, Vec<String>)>> = LazyLock::new(|| {
        STREAMS
            .iter()
            .map(|(name, json)| {
                #[derive(serde::Deserialize)]
                struct Subjects {
                    subjects: Vec<String>,
                }
                let config: Subjects =
                    serde_json::from_str(json).expect("the nats/ definitions are JSON");
                (*name, config.subjects)
            })
            .collect()
    });
    FILTERS
        .iter()
        .find(|(_, filters)| filters.iter().any(|f| subject_matches(f, subject)))
        .map(|(name, _)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stream_definition_is_json_named_like_its_file() {
        for (name, json) in STREAMS {
            let v: serde_json::Value = serde_json::from_str(json).unwrap();
            assert_eq!(v["name"], *name);
        }
    }

    #[test]
    fn every_bucket_definition_is_json_named_like_its_file() {
        for (name, json) in BUCKETS {
            let v: serde_json::Value = serde_json::from_str(json).unwrap();
            assert_eq!(v["name"], *name);
            let bucket = name.strip_prefix("KV_").unwrap();
            assert_eq!(
                v["subjects"],
                serde_json::json!([format!("$KV.{bucket}.>")])
            );
        }
    }

    #[test]
    fn every_consumer_is_durable_with_explicit_ack_and_bounded_redelivery() {
        for c in CONSUMERS {
            let v: serde_json::Value = serde_json::from_str(c.json).unwrap();
            assert_eq!(v["durable_name"], c.name);
            assert_eq!(v["ack_policy"], "explicit");
            assert!(v["max_deliver"].as_i64().unwrap() > 1);
            assert!(STREAMS.iter().any(|(s, _)| *s == c.stream));
        }
    }

    #[test]
    fn subjects_match_nats_wildcards() {
        assert!(subject_matches("orders.>", "orders.created"));
        assert!(subject_matches(
            "catalog.events.>",
            "catalog.events.cancelled"
        ));
        assert!(subject_matches("dlq.*", "dlq.ticket-payments"));
        assert!(!subject_matches("orders.>", "orders"));
        assert!(!subject_matches("orders.*", "orders.created.x"));
        assert!(subject_matches("orders.created", "orders.created"));
    }

    #[test]
    fn each_fact_subject_is_stored_by_the_stream_whose_filter_matches_it() {
        assert_eq!(stream_of("orders.created"), Some("ORDERS"));
        assert_eq!(stream_of("payments.refunded"), Some("PAYMENTS"));
        assert_eq!(stream_of("catalog.events.cancelled"), Some("CATALOG"));
        assert_eq!(stream_of("dlq.ticket-payments"), Some("DEAD_LETTERS"));
        assert_eq!(stream_of("nowhere.at.all"), None);
    }
}
