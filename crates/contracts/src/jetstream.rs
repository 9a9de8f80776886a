//! The JSON definitions under `nats/`, exactly as the NATS CLI takes them.

/// `(stream name, stream config JSON)`.
pub const STREAMS: &[(&str, &str)] = &[
    ("ORDERS", include_str!("../../../nats/streams/ORDERS.json")),
    (
        "PAYMENTS",
        include_str!("../../../nats/streams/PAYMENTS.json"),
    ),
    (
        "CATALOG",
        include_str!("../../../nats/streams/CATALOG.json"),
    ),
    (
        "TICKETS",
        include_str!("../../../nats/streams/TICKETS.json"),
    ),
    (
        "DEAD_LETTERS",
        include_str!("../../../nats/streams/DEAD_LETTERS.json"),
    ),
];

/// A durable consumer definition: the stream it reads and its config JSON.
#[derive(Debug, Clone, Copy)]
pub struct ConsumerDef {
    pub stream: &'static str,
    pub name: &'static str,
    pub json: &'static str,
}

/// The ticket service's view of payment results.
pub const TICKET_PAYMENTS: ConsumerDef = ConsumerDef {
    stream: "PAYMENTS",
    name: "ticket-payments",
    json: include_str!("../../../nats/consumers/PAYMENTS/ticket-payments.json"),
};

/// The ticket service's view of catalogue changes.
pub const TICKET_CATALOG: ConsumerDef = ConsumerDef {
    stream: "CATALOG",
    name: "ticket-catalog",
    json: include_str!("../../../nats/consumers/CATALOG/ticket-catalog.json"),
};

/// The payment service's projection of orders.
pub const PAYMENT_ORDERS: ConsumerDef = ConsumerDef {
    stream: "ORDERS",
    name: "payment-orders",
    json: include_str!("../../../nats/consumers/ORDERS/payment-orders.json"),
};

/// The notification service's view of orders (buyer, lines, hold) and the mails they cause.
pub const NOTIFICATION_ORDERS: ConsumerDef = ConsumerDef {
    stream: "ORDERS",
    name: "notification-orders",
    json: include_str!("../../../nats/consumers/ORDERS/notification-orders.json"),
};

/// The notification service's view of payment results (declines, refunds).
pub const NOTIFICATION_PAYMENTS: ConsumerDef = ConsumerDef {
    stream: "PAYMENTS",
    name: "notification-payments",
    json: include_str!("../../../nats/consumers/PAYMENTS/notification-payments.json"),
};

/// The notification service's view of the catalogue (what an event is, when it moves or ends).
pub const NOTIFICATION_CATALOG: ConsumerDef = ConsumerDef {
    stream: "CATALOG",
    name: "notification-catalog",
    json: include_str!("../../../nats/consumers/CATALOG/notification-catalog.json"),
};

/// The notification service's view of waitlist offers (mailed to the entry's buyer).
pub const NOTIFICATION_TICKETS: ConsumerDef = ConsumerDef {
    stream: "TICKETS",
    name: "notification-tickets",
    json: include_str!("../../../nats/consumers/TICKETS/notification-tickets.json"),
};

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
pub const SESSIONS_BUCKET: (&str, &str) = (
    "KV_SESSIONS",
    include_str!("../../../nats/buckets/KV_SESSIONS.json"),
);

/// The key-value bucket of the ticket service's waiting rooms (`KV_WAITING_ROOM`): visitors'
/// entries, each event's sale settings, used passes and the pass key, shared by its replicas.
pub const WAITING_ROOM_BUCKET: (&str, &str) = (
    "KV_WAITING_ROOM",
    include_str!("../../../nats/buckets/KV_WAITING_ROOM.json"),
);

/// Every key-value bucket, as `nats/buckets/` defines it.
pub const BUCKETS: &[(&str, &str)] = &[SESSIONS_BUCKET, WAITING_ROOM_BUCKET];

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
}
