//! Catalogue facts on the CATALOG stream, relayed through the outbox.

use async_nats::jetstream::message::StreamMessage;
use contracts::Envelope;
use contracts::catalog::{EventCancelled, EventPublished, EventUpdated};
use contracts::subjects::{
    CATALOG_EVENT_CANCELLED, CATALOG_EVENT_PUBLISHED, CATALOG_EVENT_UPDATED,
};
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::support::{Stack, catalog_messages, create, event_body, event_path, post_action};

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

fn open<T: DeserializeOwned>(msg: &StreamMessage, subject: &str) -> Envelope<T> {
    assert_eq!(msg.subject.as_str(), subject);
    let envelope: Envelope<T> = serde_json::from_slice(&msg.payload)
        .unwrap_or_else(|e| panic!("{subject} payload is not an envelope: {e}"));
    let msg_id = msg
        .headers
        .get(async_nats::header::NATS_MESSAGE_ID)
        .map(|v| v.as_str().to_string());
    assert_eq!(
        msg_id,
        Some(envelope.id.to_string()),
        "Nats-Msg-Id is the envelope id"
    );
    assert_eq!(envelope.kind, subject);
    assert_eq!(envelope.source, "event-service");
    envelope
}

fn traceparent(msg: &StreamMessage) -> String {
    msg.headers
        .get("traceparent")
        .map(|v| v.as_str().to_string())
        .expect("a traceparent header")
}

#[tokio::test]
async fn a_published_event_is_on_the_stream_once_with_its_msg_id_and_trace() {
    let (stack, client) = Stack::with_user("Pia", "Publisher").await;
    let res = client
        .request(reqwest::Method::POST, "/api/events", |r| {
            r.header("traceparent", format!("00-{TRACE_ID}-00f067aa0ba902b7-01"))
                .json(&event_body(json!({})))
        })
        .await;
    assert_eq!(res.status, 201);
    let event = res.json()["event"].clone();

    let msgs = catalog_messages(&stack.js, 1).await;
    let envelope: Envelope<EventPublished> = open(&msgs[0], CATALOG_EVENT_PUBLISHED);
    assert_eq!(envelope.subject.as_deref(), event["id"].as_str());
    let data = envelope.data;
    assert_eq!(data.event_id.to_string(), event["id"].as_str().unwrap());
    assert_eq!(data.version, 1);
    assert_eq!(data.details.title, "Jazz in the Park");
    assert_eq!(data.details.venue.capacity, 500);
    assert_eq!(data.details.ticket_types.len(), 2);
    assert_eq!(data.details.ticket_types[0].price.minor_units, 2550);
    assert_eq!(data.details.ticket_types[0].price.decimal, "25.50");
    assert_eq!(data.details.ticket_types[0].price.currency, "USD");
    assert_eq!(data.details.ticket_types[0].quantity, 300);
    let tp = traceparent(&msgs[0]);
    assert!(
        tp.starts_with(&format!("00-{TRACE_ID}-")),
        "the caller's trace continues: {tp}"
    );

    // Reading the event again announces nothing more.
    client
        .get(&format!("/api/events/{}", event["id"].as_str().unwrap()))
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    catalog_messages(&stack.js, 1).await;
}

#[tokio::test]
async fn a_draft_is_announced_only_when_it_is_published() {
    let (stack, client) = Stack::with_user("Pia", "Publisher").await;
    let draft = create(&client, json!({"status": "draft"})).await;
    let path = event_path(&draft);
    client
        .patch(&path, &json!({"title": "Still a draft"}))
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    catalog_messages(&stack.js, 0).await;

    assert_eq!(post_action(&client, &path, "publish").await.status, 200);
    let msgs = catalog_messages(&stack.js, 1).await;
    let envelope: Envelope<EventPublished> = open(&msgs[0], CATALOG_EVENT_PUBLISHED);
    assert_eq!(envelope.data.details.title, "Still a draft");
    assert_eq!(envelope.data.version, 3);
}

#[tokio::test]
async fn updates_and_cancellation_follow_in_order_with_growing_versions() {
    let (stack, client) = Stack::with_user("Pia", "Publisher").await;
    let event = create(&client, json!({})).await;
    let path = event_path(&event);
    let res = client
        .patch(
            &path,
            &json!({"ticketTypes": [
                {"name": "General", "price": 25.5, "quantity": 400},
                {"name": "VIP", "price": 99.99, "quantity": 50}
            ], "venue": {"capacity": 450}}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(post_action(&client, &path, "cancel").await.status, 200);

    let msgs = catalog_messages(&stack.js, 3).await;
    let published: Envelope<EventPublished> = open(&msgs[0], CATALOG_EVENT_PUBLISHED);
    let updated: Envelope<EventUpdated> = open(&msgs[1], CATALOG_EVENT_UPDATED);
    let cancelled: Envelope<EventCancelled> = open(&msgs[2], CATALOG_EVENT_CANCELLED);
    assert_eq!(
        (
            published.data.version,
            updated.data.version,
            cancelled.data.version
        ),
        (1, 2, 3)
    );
    assert_eq!(updated.data.details.ticket_types[0].quantity, 400);
    assert_eq!(updated.data.details.venue.capacity, 450);
    assert_eq!(cancelled.data.event_id.to_string(), event["id"]);
    let ids = [published.id, updated.id, cancelled.id];
    assert!(
        ids[0] != ids[1] && ids[1] != ids[2],
        "every fact has its own id"
    );
}
