//! The AsyncAPI 3.0 description of everything the services say to each other over JetStream,
//! built from this crate: payload schemas are generated from the Rust types with `schemars`,
//! channels from the subject constants, streams and durable consumers from the `nats/`
//! definitions. `docs/asyncapi.json` is this document, committed; the `e2e` test `asyncapi`
//! fails when the two differ (`UPDATE_DOCS=1 cargo test -p e2e --test asyncapi` rewrites it).

use chrono::{DateTime, Utc};
use schemars::generate::{SchemaGenerator, SchemaSettings};
use schemars::{JsonSchema, Schema};
use serde::Serialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::Envelope;
use crate::catalog::{
    EventCancelled, EventDetails, EventPublished, EventStaffChanged, EventUpdated, Price,
    RefundPolicy, SaleStart, TicketTypeInfo, VenueInfo,
};
use crate::jetstream::{CONSUMERS, STREAMS, TICKET_CATALOG, subject_matches};
use crate::orders::{
    CancelReason, OrderCancelled, OrderConfirmed, OrderCreated, OrderCustomer, OrderLine,
    OrderTicket,
};
use crate::payments::{PaymentCompleted, PaymentFailed, PaymentRefunded};
use crate::subjects::{self, headers};
use crate::tickets::{TicketCheckedIn, WaitlistClosed, WaitlistOffered, WaitlistPlace};

/// Where the generated document is committed, relative to the workspace root.
pub const PATH: &str = "docs/asyncapi.json";

/// One fact a service publishes.
struct Fact {
    subject: &'static str,
    /// Message name, also the data type's name.
    name: &'static str,
    producer: &'static str,
    /// What the envelope's `subject` (and so the correlation id) is.
    entity: &'static str,
    summary: &'static str,
    schema: fn(&mut SchemaGenerator) -> Schema,
    /// Sent as the fact's `producer` publishes it on its `subject`.
    example: fn() -> examples::Example,
}

fn schema_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<Envelope<T>>()
}

const FACTS: &[Fact] = &[
    Fact {
        subject: subjects::ORDERS_CREATED,
        name: "OrderCreated",
        producer: "ticket-service",
        entity: "order id",
        summary: "Seats are held for a new pending order until `expiresAt`.",
        schema: schema_of::<OrderCreated>,
        example: examples::order_created,
    },
    Fact {
        subject: subjects::ORDERS_CONFIRMED,
        name: "OrderConfirmed",
        producer: "ticket-service",
        entity: "order id",
        summary: "A completed payment turned the hold into sold seats and issued the tickets.",
        schema: schema_of::<OrderConfirmed>,
        example: examples::order_confirmed,
    },
    Fact {
        subject: subjects::ORDERS_CANCELLED,
        name: "OrderCancelled",
        producer: "ticket-service",
        entity: "order id",
        summary: "The order ended: unpaid (payment_failed, expired, user_cancelled or \
                  event_cancelled), its held seats free again; or paid (event_cancelled, \
                  organizer_refund or buyer_refund), its sold seats free again, its tickets void \
                  and its payment to be refunded.",
        schema: schema_of::<OrderCancelled>,
        example: examples::order_cancelled,
    },
    Fact {
        subject: subjects::PAYMENTS_COMPLETED,
        name: "PaymentCompleted",
        producer: "payment-service",
        entity: "order id",
        summary: "The gateway captured the money for an order.",
        schema: schema_of::<PaymentCompleted>,
        example: examples::payment_completed,
    },
    Fact {
        subject: subjects::PAYMENTS_FAILED,
        name: "PaymentFailed",
        producer: "payment-service",
        entity: "order id",
        summary: "The gateway declined (or a payment was interrupted); the buyer may retry while \
                  the hold lasts.",
        schema: schema_of::<PaymentFailed>,
        example: examples::payment_failed,
    },
    Fact {
        subject: subjects::PAYMENTS_REFUNDED,
        name: "PaymentRefunded",
        producer: "payment-service",
        entity: "order id",
        summary: "A completed payment was refunded because its order was cancelled.",
        schema: schema_of::<PaymentRefunded>,
        example: examples::payment_refunded,
    },
    Fact {
        subject: subjects::CATALOG_EVENT_PUBLISHED,
        name: "EventPublished",
        producer: "event-service",
        entity: "event id",
        summary: "An event became bookable (created as published, or a draft was published).",
        schema: schema_of::<EventPublished>,
        example: examples::event_published,
    },
    Fact {
        subject: subjects::CATALOG_EVENT_UPDATED,
        name: "EventUpdated",
        producer: "event-service",
        entity: "event id",
        summary: "A published event changed; carries the whole new state.",
        schema: schema_of::<EventUpdated>,
        example: examples::event_updated,
    },
    Fact {
        subject: subjects::CATALOG_EVENT_CANCELLED,
        name: "EventCancelled",
        producer: "event-service",
        entity: "event id",
        summary: "A published event was cancelled (final); its pending orders are cancelled and \
                  its paid ones cancelled and refunded.",
        schema: schema_of::<EventCancelled>,
        example: examples::event_cancelled,
    },
    Fact {
        subject: subjects::CATALOG_EVENT_STAFF_CHANGED,
        name: "EventStaffChanged",
        producer: "event-service",
        entity: "event id",
        summary: "The organizer named or removed check-in staff (drafts too); carries the whole \
                  list, versioned by `staffVersion`.",
        schema: schema_of::<EventStaffChanged>,
        example: examples::event_staff_changed,
    },
    Fact {
        subject: subjects::TICKETS_CHECKED_IN,
        name: "TicketCheckedIn",
        producer: "ticket-service",
        entity: "event id",
        summary: "A scan at the door was accepted: the holder entered (once per ticket, however \
                  many scanners raced) or left with an exit scan.",
        schema: schema_of::<TicketCheckedIn>,
        example: examples::ticket_checked_in,
    },
    Fact {
        subject: subjects::TICKETS_WAITLIST_OFFERED,
        name: "WaitlistOffered",
        producer: "ticket-service",
        entity: "waitlist entry id",
        summary: "Freed seats are held for the first waitlist entry they fit until `expiresAt`; \
                  the notification service mails the offer.",
        schema: schema_of::<WaitlistOffered>,
        example: examples::waitlist_offered,
    },
    Fact {
        subject: subjects::TICKETS_WAITLIST_CLOSED,
        name: "WaitlistClosed",
        producer: "ticket-service",
        entity: "waitlist entry id",
        summary: "The event was cancelled: a waitlist entry still waiting or offered ended (once \
                  per entry), an offer's held seats withdrawn; the notification service tells \
                  the buyer.",
        schema: schema_of::<WaitlistClosed>,
        example: examples::waitlist_closed,
    },
];

/// Plain (non-JetStream) subscriptions: the ticket service follows these subjects to push live
/// availability to browsers (`ticket_service::live`); at most once, nothing is acknowledged.
const LIVE_SUBSCRIPTIONS: &[&str] = &["orders.>", "catalog.events.>"];

/// Facts no service consumes (yet) but operators read with the NATS CLI: `(filter, how)`.
const OPERATOR_READS: &[(&str, &str)] = &[(
    "tickets.>",
    "With the NATS CLI: `nats sub 'tickets.>'` shows the door's check-ins as they happen, \
     `nats stream view TICKETS` the history. No service consumes them yet.",
)];

fn parse(json: &str) -> Value {
    serde_json::from_str(json).expect("the nats/ definitions are JSON")
}

/// A consumer's subject filters: `filter_subjects`, else `filter_subject`, else everything.
fn filters_of(config: &Value) -> Vec<&str> {
    let many: Vec<&str> = config["filter_subjects"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if !many.is_empty() {
        return many;
    }
    vec![config["filter_subject"].as_str().unwrap_or(">")]
}

/// The stream that stores `subject`, from `nats/streams/`.
fn stream_of(subject: &str) -> &'static str {
    crate::jetstream::stream_of(subject)
        .unwrap_or_else(|| panic!("no stream in nats/streams/ stores {subject}"))
}

fn nanos_to_text(nanos: &Value) -> String {
    let secs = nanos.as_u64().unwrap_or(0) / 1_000_000_000;
    match secs {
        s if s % 86_400 == 0 && s > 0 => format!("{} days", s / 86_400),
        s if s % 60 == 0 && s > 0 => format!("{} minutes", s / 60),
        s => format!("{s} seconds"),
    }
}

/// The service a durable consumer belongs to: its name starts with the service's name.
fn service_of_consumer(consumer: &str) -> String {
    let service = consumer.split('-').next().unwrap_or(consumer);
    format!("{service}-service")
}

/// How a consumer's handler makes a redelivery harmless.
fn idempotency_of(consumer: &str) -> &'static str {
    if consumer.starts_with("notification-") {
        "The handler records the projection change and the mails the fact causes, keyed by \
         (envelope id, recipient), in one transaction; a mail recorded as sent is never sent \
         again, so a redelivery sends at most what a crash interrupted."
    } else if consumer == TICKET_CATALOG.name {
        "Idempotent without bookkeeping: a fact is applied only if its `version` is newer than the \
         stored one, and pending orders are cancelled by a conditional transition."
    } else {
        "The handler records the envelope id as processed in the same transaction as its effect, \
         so a redelivery has no second effect."
    }
}

fn reference(pointer: &str) -> Value {
    json!({ "$ref": pointer })
}

/// The JSON pointer token for `s` (`~` and `/` escaped).
fn token(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

fn event_headers_schema() -> Value {
    json!({
        "type": "object",
        "description": "NATS headers of every published event.",
        "properties": {
            (headers::MSG_ID): {
                "type": "string",
                "format": "uuid",
                "description": "The envelope id. JetStream drops a message whose id it already \
                                stored within the stream's duplicate window (2 minutes), so an \
                                outbox relay that re-sends after a crash does not duplicate it."
            },
            (headers::TRACEPARENT): {
                "type": "string",
                "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
                "description": "W3C trace context of the HTTP request or message that caused \
                                the event, so one trace spans HTTP and the broker. Absent on \
                                facts no request caused (e.g. expiry by the ticket service's \
                                sweeper)."
            }
        },
        "required": [headers::MSG_ID]
    })
}

fn dead_letter_headers_schema() -> Value {
    json!({
        "type": "object",
        "description": "NATS headers of a dead-lettered message. The original message's other \
                        headers are not copied.",
        "properties": {
            (headers::DLQ_REASON): {
                "type": "string",
                "description": "Why the consumer gave up: the poison-message reason (e.g. an \
                                unreadable payload), or the last error after `max_deliver` \
                                failed deliveries."
            },
            (headers::DLQ_ORIGINAL_SUBJECT): {
                "type": "string",
                "description": "The subject the message was published on; republish there to \
                                replay it."
            },
            (headers::DLQ_STREAM_SEQUENCE): {
                "type": "string",
                "pattern": "^[0-9]+$",
                "description": "The message's sequence in its original stream."
            },
            (headers::MSG_ID): {
                "type": "string",
                "pattern": "^[a-z0-9-]+:[A-Z_]+:[0-9]+$",
                "description": "`<consumer>:<stream>:<sequence>`, so a message is parked once \
                                even if dead-lettering is retried."
            },
            (headers::TRACEPARENT): {
                "type": "string",
                "description": "Copied from the original message when it had one."
            }
        },
        "required": [headers::DLQ_REASON, headers::DLQ_ORIGINAL_SUBJECT, headers::DLQ_STREAM_SEQUENCE, headers::MSG_ID]
    })
}

/// Makes the generated envelope schema of one fact exact: its `type`, `source` and the
/// CloudEvents constants.
fn pin_envelope(schema: &mut Value, fact: &Fact) {
    let properties = schema["properties"]
        .as_object_mut()
        .expect("an envelope schema has properties");
    let mut pin = |field: &str, value: &str| {
        let property = properties
            .get_mut(field)
            .and_then(Value::as_object_mut)
            .unwrap_or_else(|| panic!("the envelope has a {field} field"));
        property.insert("const".into(), json!(value));
    };
    pin("specversion", "1.0");
    pin("type", fact.subject);
    pin("source", fact.producer);
    pin("datacontenttype", "application/json");
    // Optional in the Rust type, but every fact the services publish names its entity.
    properties.insert(
        "subject".into(),
        json!({
            "type": "string",
            "format": "uuid",
            "description": format!("The {} the fact is about.", fact.entity)
        }),
    );
    let required = schema["required"]
        .as_array_mut()
        .expect("an envelope schema lists its required fields");
    if !required.iter().any(|r| r == "subject") {
        required.push(json!("subject"));
    }
}

/// The whole AsyncAPI 3.0 document.
pub fn document() -> Value {
    let mut generator = SchemaSettings::draft07()
        .with(|s| {
            s.definitions_path = "/components/schemas".into();
            s.meta_schema = None;
        })
        .for_serialize()
        .into_generator();

    let mut channels = Map::new();
    let mut operations = Map::new();
    let mut messages = Map::new();
    let mut envelopes = Vec::new();

    for fact in FACTS {
        let payload = (fact.schema)(&mut generator).to_value();
        let envelope_name = payload["$ref"]
            .as_str()
            .and_then(|r| r.rsplit('/').next())
            .expect("envelopes are referenced, not inlined")
            .to_string();
        envelopes.push((envelope_name, fact));

        let stream = stream_of(fact.subject);
        let example = (fact.example)().envelope(fact);
        messages.insert(
            fact.name.into(),
            json!({
                "name": fact.name,
                "title": fact.subject,
                "summary": fact.summary,
                "contentType": "application/json",
                "headers": reference("#/components/schemas/EventHeaders"),
                "payload": payload,
                "correlationId": {
                    "description": format!("The envelope's `subject`: the {}.", fact.entity),
                    "location": "$message.payload#/subject"
                },
                "examples": [{
                    "name": format!("{}Example", fact.name),
                    "headers": {
                        (headers::MSG_ID): example["id"],
                        (headers::TRACEPARENT): examples::TRACEPARENT
                    },
                    "payload": example
                }]
            }),
        );

        channels.insert(
            fact.subject.into(),
            json!({
                "address": fact.subject,
                "title": fact.subject,
                "description": format!(
                    "{} Published by the {} through its transactional outbox; stored in the \
                     `{stream}` stream.",
                    fact.summary, fact.producer
                ),
                "messages": {
                    (fact.name): reference(&format!("#/components/messages/{}", fact.name))
                },
                "x-jetstream-stream": stream
            }),
        );

        let message_ref = reference(&format!(
            "#/channels/{}/messages/{}",
            token(fact.subject),
            fact.name
        ));
        operations.insert(
            format!("{}.send.{}", fact.producer, fact.subject),
            json!({
                "action": "send",
                "channel": reference(&format!("#/channels/{}", token(fact.subject))),
                "title": format!("{} publishes {}", fact.producer, fact.subject),
                "summary": "Written to the outbox in the same transaction as the state change; \
                            the relay publishes it until JetStream acknowledges it, with \
                            `Nats-Msg-Id` = envelope id.",
                "tags": [{ "name": fact.producer }],
                "messages": [message_ref.clone()]
            }),
        );

        for consumer in CONSUMERS {
            let config = parse(consumer.json);
            let filters = filters_of(&config);
            if consumer.stream != stream
                || !filters.iter().any(|f| subject_matches(f, fact.subject))
            {
                continue;
            }
            let filter = filters.join("`, `");
            let service = service_of_consumer(consumer.name);
            operations.insert(
                format!("{}.receive.{}", consumer.name, fact.subject),
                json!({
                    "action": "receive",
                    "channel": reference(&format!("#/channels/{}", token(fact.subject))),
                    "title": format!("{service} consumes {} ({})", fact.subject, consumer.name),
                    "summary": config["description"],
                    "description": format!(
                        "Durable pull consumer `{}` on `{}` (filter `{filter}`), explicit ack, \
                         at most {} deliveries with backoff, then dead-lettered on `dlq.{}`. {}",
                        consumer.name,
                        consumer.stream,
                        config["max_deliver"],
                        consumer.name,
                        idempotency_of(consumer.name)
                    ),
                    "tags": [{ "name": service }],
                    "messages": [message_ref.clone()],
                    "x-durable-consumer": consumer.name
                }),
            );
        }

        if LIVE_SUBSCRIPTIONS
            .iter()
            .any(|filter| subject_matches(filter, fact.subject))
        {
            operations.insert(
                format!("ticket-service.live.receive.{}", fact.subject),
                json!({
                    "action": "receive",
                    "channel": reference(&format!("#/channels/{}", token(fact.subject))),
                    "title": format!("ticket-service follows {} for live availability", fact.subject),
                    "summary": "A plain core NATS subscription on every replica (no consumer, \
                                no ack): it only triggers a fresh availability push to browsers \
                                watching that event.",
                    "tags": [{ "name": "ticket-service" }],
                    "messages": [message_ref.clone()]
                }),
            );
        }

        for (filter, how) in OPERATOR_READS {
            if !subject_matches(filter, fact.subject) {
                continue;
            }
            operations.insert(
                format!("operators.receive.{}", fact.subject),
                json!({
                    "action": "receive",
                    "channel": reference(&format!("#/channels/{}", token(fact.subject))),
                    "title": format!("Operators follow {}", fact.subject),
                    "summary": how,
                    "tags": [{ "name": "operators" }],
                    "messages": [message_ref.clone()]
                }),
            );
        }
    }

    // Dead letters: any durable consumer parks a message it gave up on under dlq.<consumer>.
    let consumer_names: Vec<&str> = CONSUMERS.iter().map(|c| c.name).collect();
    let dlq_stream = stream_of(&subjects::dead_letter(consumer_names[0]));
    channels.insert(
        "dlq".into(),
        json!({
            "address": subjects::dead_letter("{consumer}"),
            "title": "dead letters",
            "description": format!(
                "Messages a durable consumer gave up on: unreadable (poison) at once, others after \
                 the consumer's `max_deliver` failed deliveries. Stored in `{dlq_stream}`; nothing \
                 consumes it automatically. An operator inspects it and republishes a fixed or \
                 retried message to its `Dlq-Original-Subject` (see docs/operations.md)."
            ),
            "parameters": {
                "consumer": {
                    "description": "The durable consumer that gave up.",
                    "enum": consumer_names
                }
            },
            "messages": { "DeadLetter": reference("#/components/messages/DeadLetter") },
            "x-jetstream-stream": dlq_stream
        }),
    );
    messages.insert(
        "DeadLetter".into(),
        json!({
            "name": "DeadLetter",
            "title": "dlq.<consumer>",
            "summary": "A message a consumer could not handle, payload unchanged.",
            "contentType": "application/json",
            "headers": reference("#/components/schemas/DeadLetterHeaders"),
            "payload": {
                "description": "The original message's payload, byte for byte: usually one of the \
                                envelopes above, possibly not even JSON (which is why it was parked)."
            },
            "examples": [examples::dead_letter()]
        }),
    );
    operations.insert(
        "consumers.send.dlq".into(),
        json!({
            "action": "send",
            "channel": reference("#/channels/dlq"),
            "title": "A durable consumer parks a message",
            "summary": format!(
                "Every durable consumer ({}) publishes here through `platform::consumer`, then \
                 terminates the original delivery. If the publish fails the original is retried \
                 instead of dropped.",
                CONSUMERS
                    .iter()
                    .map(|c| format!("{} of the {}", c.name, service_of_consumer(c.name)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "tags": CONSUMERS
                .iter()
                .map(|c| service_of_consumer(c.name))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .map(|s| json!({ "name": s }))
                .collect::<Vec<_>>(),
            "messages": [reference("#/channels/dlq/messages/DeadLetter")]
        }),
    );
    operations.insert(
        "operators.receive.dlq".into(),
        json!({
            "action": "receive",
            "channel": reference("#/channels/dlq"),
            "title": "Operators inspect dead letters",
            "summary": "With the NATS CLI: `nats stream view DEAD_LETTERS`, `nats stream get \
                        DEAD_LETTERS <seq>`; replay with `nats pub <Dlq-Original-Subject>`.",
            "tags": [{ "name": "operators" }],
            "messages": [reference("#/channels/dlq/messages/DeadLetter")]
        }),
    );

    let mut schemas = generator.take_definitions(true);
    for (name, fact) in envelopes {
        let schema = schemas
            .get_mut(&name)
            .unwrap_or_else(|| panic!("schema {name} was generated"));
        pin_envelope(schema, fact);
    }
    schemas.insert("EventHeaders".into(), event_headers_schema());
    schemas.insert("DeadLetterHeaders".into(), dead_letter_headers_schema());

    let streams: Vec<Value> = STREAMS
        .iter()
        .map(|(name, json)| {
            let config = parse(json);
            json!({
                "name": name,
                "subjects": config["subjects"],
                "storage": config["storage"],
                "retention": config["retention"],
                "maxAge": nanos_to_text(&config["max_age"]),
                "duplicateWindow": nanos_to_text(&config["duplicate_window"]),
                "replicas": config["num_replicas"]
            })
        })
        .collect();

    json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": "Ticketing platform events",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The facts the ticketing services publish on NATS JetStream. Every \
                message is a CloudEvents 1.0 envelope in structured JSON mode whose `type` is the \
                subject it is published on and whose `subject` is the order or event id; money is \
                integer minor units plus a decimal string. Generated from the `contracts` crate \
                (`contracts::asyncapi::document()`); see docs/events.md.",
            "license": { "name": "Apache-2.0" },
            "tags": [
                { "name": "event-service", "description": "The event catalogue (port 3002)." },
                { "name": "ticket-service", "description": "Inventory, orders, e-tickets, the order side of the saga (port 3003)." },
                { "name": "payment-service", "description": "Payments and refunds (port 3004)." },
                { "name": "notification-service", "description": "Mails buyers and ticket holders what happened (port 3005); publishes nothing." },
                { "name": "operators", "description": "People with the NATS CLI." }
            ],
            "x-jetstream-streams": streams
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {
                "host": "localhost:4222",
                "protocol": "nats",
                "description": "The nats-server `cargo xtask up` starts (JetStream store in ./data/nats)."
            },
            "compose": {
                "host": "nats:4222",
                "protocol": "nats",
                "description": "The `nats` service of compose.yaml, inside the compose network."
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": schemas,
            "messages": messages
        }
    })
}

/// Example messages built from the real types, so they cannot drift from the schemas.
pub(crate) mod examples {
    use super::*;

    pub const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    const ORDER: Uuid = Uuid::from_u128(0x0199_8f3a_7c1e_7b42_9a4d_3f2e_1c0b_0a01);
    const USER: Uuid = Uuid::from_u128(0x0199_8f2e_11aa_7c33_8e21_5b6a_7d8c_9e02);
    const EVENT: Uuid = Uuid::from_u128(0x0199_8e10_4b2c_7d5e_a1f0_2c3d_4e5f_6a03);
    const PAYMENT: Uuid = Uuid::from_u128(0x0199_8f3b_0d4e_7f61_b2c3_d4e5_f6a7_b804);
    const ORGANIZER: Uuid = Uuid::from_u128(0x0199_8e0f_9a8b_7c6d_8e5f_4a3b_2c1d_0e05);

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_900_000_000 + secs, 0).expect("a valid time")
    }

    fn usd(minor_units: i64) -> Price {
        Price {
            minor_units,
            decimal: format!("{}.{:02}", minor_units / 100, minor_units % 100),
            currency: "USD".into(),
        }
    }

    /// The data of one example message and the envelope's own values; the subject and the
    /// source come from its [`Fact`].
    pub struct Example {
        id: u128,
        about: Uuid,
        secs: i64,
        data: Value,
    }

    fn example<T: Serialize>(id: u128, about: Uuid, secs: i64, data: T) -> Example {
        let data = serde_json::to_value(data).expect("examples serialise");
        Example {
            id,
            about,
            secs,
            data,
        }
    }

    impl Example {
        /// The envelope as it appears in `nats stream view`.
        pub(super) fn envelope(self, fact: &Fact) -> Value {
            let envelope = Envelope {
                specversion: "1.0".into(),
                id: Uuid::from_u128(self.id),
                kind: fact.subject.into(),
                source: fact.producer.into(),
                subject: Some(self.about.to_string()),
                time: at(self.secs),
                datacontenttype: "application/json".into(),
                data: self.data,
            };
            serde_json::to_value(envelope).expect("examples serialise")
        }
    }

    /// The example event: two ticket types, refunds until 48 hours before.
    pub(crate) fn details() -> EventDetails {
        EventDetails {
            title: "Jazz Night".into(),
            category: "Music".into(),
            venue: VenueInfo {
                name: "Blue Room".into(),
                city: "Chicago".into(),
                capacity: 200,
            },
            date_time: at(30 * 86_400),
            duration: 120,
            ticket_types: vec![
                TicketTypeInfo {
                    name: "General".into(),
                    price: usd(2550),
                    quantity: 150,
                },
                TicketTypeInfo {
                    name: "VIP".into(),
                    price: usd(9000),
                    quantity: 50,
                },
            ],
            created_by: ORGANIZER,
            refund_policy: RefundPolicy {
                allowed: true,
                until_hours_before: 48,
            },
            sale: SaleStart::default(),
            waitlist_enabled: true,
        }
    }

    pub fn order_created() -> Example {
        example(
            0x0199_8f3a_7c1f_7000_8000_0000_0000_0001,
            ORDER,
            0,
            OrderCreated {
                order_id: ORDER,
                booking_reference: "TK-7Q4M9XK2".into(),
                user_id: USER,
                event_id: EVENT,
                lines: vec![OrderLine {
                    ticket_type: "General".into(),
                    quantity: 2,
                    unit_price: usd(2550),
                    subtotal: usd(5100),
                }],
                total_amount: usd(5100),
                expires_at: at(900),
                customer: Some(OrderCustomer {
                    first_name: "Ada".into(),
                    last_name: "Lovelace".into(),
                    email: "ada@example.com".into(),
                }),
            },
        )
    }

    pub fn order_confirmed() -> Example {
        example(
            0x0199_8f3b_1111_7000_8000_0000_0000_0002,
            ORDER,
            61,
            OrderConfirmed {
                order_id: ORDER,
                booking_reference: "TK-7Q4M9XK2".into(),
                user_id: USER,
                event_id: EVENT,
                payment_id: PAYMENT,
                total_amount: usd(5100),
                ticket_count: 2,
                tickets: vec![
                    OrderTicket {
                        ticket_type: "General".into(),
                        code: "KQ7MX-4PN2R-T8WHZ-3CYDV".into(),
                        signed_code: None,
                    },
                    OrderTicket {
                        ticket_type: "General".into(),
                        code: "B9RTE-XW5KM-2HQPA-7NCJF".into(),
                        signed_code: None,
                    },
                ],
            },
        )
    }

    pub fn order_cancelled() -> Example {
        example(
            0x0199_8f47_2222_7000_8000_0000_0000_0003,
            ORDER,
            900,
            OrderCancelled {
                order_id: ORDER,
                booking_reference: "TK-7Q4M9XK2".into(),
                user_id: USER,
                event_id: EVENT,
                reason: CancelReason::Expired,
            },
        )
    }

    pub fn payment_completed() -> Example {
        example(
            0x0199_8f3b_0d50_7000_8000_0000_0000_0004,
            ORDER,
            60,
            PaymentCompleted {
                payment_id: PAYMENT,
                order_id: ORDER,
                user_id: USER,
                amount: usd(5100),
                payment_method: "credit_card".into(),
                transaction_id: "txn_5f0c3a9e2b7d4c18a6e1f2d3b4c5a697".into(),
            },
        )
    }

    pub fn payment_failed() -> Example {
        example(
            0x0199_8f3a_9999_7000_8000_0000_0000_0005,
            ORDER,
            30,
            PaymentFailed {
                payment_id: Uuid::from_u128(0x0199_8f3a_9990_7000_8000_0000_0000_0006),
                order_id: ORDER,
                user_id: USER,
                amount: usd(5100),
                payment_method: "credit_card".into(),
                response_code: "card_declined".into(),
                response_message: "Your card was declined.".into(),
            },
        )
    }

    pub fn payment_refunded() -> Example {
        example(
            0x0199_8f47_3333_7000_8000_0000_0000_0007,
            ORDER,
            901,
            PaymentRefunded {
                payment_id: PAYMENT,
                order_id: ORDER,
                user_id: USER,
                amount: usd(5100),
                reason: "order_not_pending".into(),
            },
        )
    }

    pub fn event_published() -> Example {
        example(
            0x0199_8e10_4b30_7000_8000_0000_0000_0008,
            EVENT,
            -86_400,
            EventPublished {
                event_id: EVENT,
                version: 1,
                details: details(),
            },
        )
    }

    pub fn event_updated() -> Example {
        let mut details = details();
        details.ticket_types[0].quantity = 160;
        details.venue.capacity = 210;
        example(
            0x0199_8e20_0000_7000_8000_0000_0000_0009,
            EVENT,
            -3_600,
            EventUpdated {
                event_id: EVENT,
                version: 2,
                details,
            },
        )
    }

    pub fn event_cancelled() -> Example {
        example(
            0x0199_8f50_0000_7000_8000_0000_0000_000a,
            EVENT,
            3_600,
            EventCancelled {
                event_id: EVENT,
                version: 3,
                title: "Jazz Night".into(),
                date_time: at(30 * 86_400),
                cancelled_at: at(3_600),
            },
        )
    }

    pub fn event_staff_changed() -> Example {
        example(
            0x0199_8e30_0000_7000_8000_0000_0000_000b,
            EVENT,
            -1_800,
            EventStaffChanged {
                event_id: EVENT,
                staff_version: 1,
                staff: vec!["door@example.org".into()],
            },
        )
    }

    pub fn ticket_checked_in() -> Example {
        example(
            0x0199_9a00_0000_7000_8000_0000_0000_000c,
            EVENT,
            30 * 86_400 - 600,
            TicketCheckedIn {
                event_id: EVENT,
                order_id: ORDER,
                code: "ABCDE-FGHJK-MNPQR-STUVW".into(),
                ticket_type: "General".into(),
                direction: api_types::checkin::ScanDirection::Entry,
                scanned_at: at(30 * 86_400 - 630),
                gate: Some("North gate".into()),
                scanned_by: ORGANIZER,
            },
        )
    }

    const WAITLIST_ENTRY: Uuid = Uuid::from_u128(0x0199_9b00_0000_7000_8000_0000_0000_00e1);

    /// Grace's place in line for two General seats of the example event.
    fn place() -> WaitlistPlace {
        WaitlistPlace {
            entry_id: WAITLIST_ENTRY,
            event_id: EVENT,
            event_title: "Rust Fest".into(),
            user_id: USER,
            email: "grace@example.org".into(),
            first_name: "Grace".into(),
            ticket_type: "General".into(),
            quantity: 2,
        }
    }

    pub fn waitlist_offered() -> Example {
        example(
            0x0199_9b00_0000_7000_8000_0000_0000_000d,
            WAITLIST_ENTRY,
            2 * 86_400,
            WaitlistOffered {
                place: place(),
                expires_at: at(2 * 86_400 + 1_800),
            },
        )
    }

    pub fn waitlist_closed() -> Example {
        example(
            0x0199_9b00_0000_7000_8000_0000_0000_000e,
            WAITLIST_ENTRY,
            3 * 86_400,
            WaitlistClosed {
                place: place(),
                held_offer: true,
            },
        )
    }

    pub fn dead_letter() -> Value {
        json!({
            "name": "DeadLetterExample",
            "summary": "A payments.completed message the ticket service could not read.",
            "headers": {
                (headers::DLQ_REASON): "unreadable payments.completed payload: missing field `orderId` at line 1 column 312",
                (headers::DLQ_ORIGINAL_SUBJECT): subjects::PAYMENTS_COMPLETED,
                (headers::DLQ_STREAM_SEQUENCE): "42",
                (headers::MSG_ID): "ticket-payments:PAYMENTS:42",
                (headers::TRACEPARENT): TRACEPARENT
            },
            "payload": {
                "specversion": "1.0",
                "id": "01998f3b-0d50-7000-8000-00000000000b",
                "type": subjects::PAYMENTS_COMPLETED,
                "source": "payment-service",
                "subject": ORDER.to_string(),
                "time": "2030-03-17T17:47:40Z",
                "datacontenttype": "application/json",
                "data": { "paymentId": PAYMENT.to_string() }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `"$ref": "#/..."` in `v`.
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    match (k.as_str(), v) {
                        ("$ref", Value::String(r)) => out.push(r.clone()),
                        _ => refs(v, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    #[test]
    fn every_reference_in_the_document_resolves() {
        let doc = document();
        let mut all = Vec::new();
        refs(&doc, &mut all);
        assert!(all.len() > 30);
        for r in all {
            let pointer = r.strip_prefix('#').expect("local references only");
            assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
        }
    }

    #[test]
    fn every_subject_has_a_channel_a_sender_and_a_receiver() {
        let doc = document();
        let operations = doc["operations"].as_object().unwrap();
        for fact in FACTS {
            assert_eq!(doc["channels"][fact.subject]["address"], fact.subject);
            let on_channel = |action: &str| {
                operations.values().any(|op| {
                    op["action"] == action
                        && op["channel"]["$ref"] == format!("#/channels/{}", fact.subject)
                })
            };
            assert!(on_channel("send"), "{} has no sender", fact.subject);
            assert!(on_channel("receive"), "{} has no receiver", fact.subject);
        }
        assert_eq!(doc["channels"]["dlq"]["address"], "dlq.{consumer}");
    }

    #[test]
    fn payload_schemas_pin_the_envelope_type_to_the_subject() {
        let doc = document();
        for fact in FACTS {
            let r = doc["components"]["messages"][fact.name]["payload"]["$ref"]
                .as_str()
                .unwrap();
            let schema = doc.pointer(r.strip_prefix('#').unwrap()).unwrap();
            assert_eq!(schema["properties"]["type"]["const"], fact.subject);
            assert_eq!(schema["properties"]["source"]["const"], fact.producer);
            let data = schema["properties"]["data"].to_string();
            let data_ref = format!("\"#/components/schemas/{}\"", fact.name);
            assert!(data.contains(&data_ref), "{data}");
        }
        let reasons = &doc["components"]["schemas"]["CancelReason"];
        assert!(reasons.to_string().contains("event_cancelled"), "{reasons}");
    }

    #[test]
    fn the_examples_follow_their_schemas_required_fields() {
        let doc = document();
        for fact in FACTS {
            let message = &doc["components"]["messages"][fact.name];
            let example = &message["examples"][0]["payload"];
            assert_eq!(example["type"], fact.subject);
            let data_schema = &doc["components"]["schemas"][fact.name];
            for field in data_schema["required"].as_array().unwrap() {
                let field = field.as_str().unwrap();
                assert!(
                    example["data"].get(field).is_some(),
                    "{} example lacks {field}",
                    fact.name
                );
            }
            assert_eq!(
                message["examples"][0]["headers"][headers::MSG_ID],
                example["id"]
            );
        }
    }
}
