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
        "DEAD_LETTERS",
        include_str!("../../../nats/streams/DEAD_LETTERS.json"),
    ),
];

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
}
