//! The supervisor of background work against a real nats-server: a consumer that cannot start is
//! started again, and one stop ends it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream;
use contracts::Envelope;
use contracts::jetstream::TICKET_CATALOG;
use contracts::subjects::CATALOG_EVENT_PUBLISHED;
use platform::background::Background;
use platform::consumer::Outcome;
use platform::testing::{NatsServer, eventually, publish_envelope};
use serde_json::json;

/// A fresh nats-server (no streams yet) and a JetStream context on it.
async fn broker() -> (NatsServer, jetstream::Context) {
    let server = NatsServer::start();
    let client = platform::nats::connect(&server.url(), "background-test", Duration::from_secs(5))
        .await
        .unwrap();
    (server, jetstream::new(client))
}

/// Publishes the `n`th `catalog.event.published` fact, about `aggregate` if one is named.
async fn publish_fact(js: &jetstream::Context, aggregate: Option<&str>, n: u64) {
    let envelope = Envelope::new(
        CATALOG_EVENT_PUBLISHED,
        "test",
        aggregate.map(str::to_string),
        json!({"n": n}),
    );
    publish_envelope(js, &envelope, HeaderMap::new()).await;
}

/// Waits until the count of handled facts satisfies `done`.
async fn until_handled(what: &str, handled: &Arc<AtomicUsize>, done: fn(usize) -> bool) {
    eventually(what, || {
        let handled = handled.clone();
        async move { done(handled.load(Ordering::SeqCst)).then_some(()) }
    })
    .await;
}

#[tokio::test]
async fn a_consumer_that_cannot_start_is_started_again_until_it_handles_messages() {
    let (_server, js) = broker().await;
    let handled = Arc::new(AtomicUsize::new(0));

    // No stream yet: the consumer cannot be created and its first runs fail.
    let background = Background::new().consumer(
        js.clone(),
        TICKET_CATALOG,
        4,
        handled.clone(),
        |handled, _msg| {
            Box::pin(async move {
                handled.fetch_add(1, Ordering::SeqCst);
                Ok(Outcome::Applied)
            })
        },
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    platform::nats::ensure_streams(&js).await.unwrap();
    publish_fact(&js, None, 1).await;

    until_handled(
        "the restarted consumer handles the message",
        &handled,
        |n| n == 1,
    )
    .await;
    tokio::time::timeout(Duration::from_secs(5), background.stop())
        .await
        .expect("stop ends the consumer");
}

#[tokio::test]
async fn a_consumer_handles_many_facts_at_once_but_those_of_one_aggregate_in_stream_order() {
    let (_server, js) = broker().await;
    platform::nats::ensure_streams(&js).await.unwrap();
    // Sixty facts about three events, published in order before the consumer starts.
    for n in 0..60u64 {
        publish_fact(&js, Some(&format!("event-{}", n % 3)), n).await;
    }

    // A handler that takes longer for earlier facts, so a free-for-all would reorder them.
    let handled = Arc::new(std::sync::Mutex::new(Vec::new()));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let most_in_flight = Arc::new(AtomicUsize::new(0));
    let seen = (handled.clone(), in_flight.clone(), most_in_flight.clone());
    let background = Background::new().consumer(
        js.clone(),
        TICKET_CATALOG,
        8,
        Arc::new(seen),
        |seen, msg| {
            let fact: Envelope<serde_json::Value> = serde_json::from_slice(&msg.payload).unwrap();
            Box::pin(async move {
                let (handled, in_flight, most) = seen.as_ref();
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                let n = fact.data["n"].as_u64().unwrap();
                tokio::time::sleep(Duration::from_millis(20 - n % 20)).await;
                handled.lock().unwrap().push((fact.subject.unwrap(), n));
                in_flight.fetch_sub(1, Ordering::SeqCst);
                Ok(Outcome::Applied)
            })
        },
    );

    eventually("every fact is handled", || {
        let handled = handled.clone();
        async move { (handled.lock().unwrap().len() == 60).then_some(()) }
    })
    .await;
    background.stop().await;

    let handled = handled.lock().unwrap();
    for event in ["event-0", "event-1", "event-2"] {
        let order: Vec<u64> = handled
            .iter()
            .filter(|(about, _)| about == event)
            .map(|(_, n)| *n)
            .collect();
        let expected: Vec<u64> = (0..60)
            .filter(|n| format!("event-{}", n % 3) == event)
            .collect();
        assert_eq!(order, expected, "{event} was handled out of order");
    }
    assert!(
        most_in_flight.load(Ordering::SeqCst) > 1,
        "facts of different events were never handled together"
    );
}

/// A consumer of `catalog.>` whose messages must be acknowledged within a second.
const ONE_SECOND_ACK: contracts::jetstream::ConsumerDef = contracts::jetstream::ConsumerDef {
    stream: "CATALOG",
    name: "one-second-ack",
    json: r#"{
        "durable_name": "one-second-ack",
        "deliver_policy": "all",
        "ack_policy": "explicit",
        "ack_wait": 1000000000,
        "max_deliver": 8,
        "filter_subject": "catalog.>",
        "replay_policy": "instant",
        "max_ack_pending": 1000
    }"#,
};

#[tokio::test]
async fn a_fact_waiting_behind_a_slow_one_of_its_aggregate_is_not_delivered_twice() {
    let (_server, js) = broker().await;
    platform::nats::ensure_streams(&js).await.unwrap();
    for n in 0..2u64 {
        publish_fact(&js, Some("event-1"), n).await;
    }

    // The first fact takes two and a half times the ack wait; the second waits behind it.
    let second_handled = Arc::new(AtomicUsize::new(0));
    let background = Background::new().consumer(
        js.clone(),
        ONE_SECOND_ACK,
        4,
        second_handled.clone(),
        |second_handled, msg| {
            let fact: Envelope<serde_json::Value> = serde_json::from_slice(&msg.payload).unwrap();
            Box::pin(async move {
                if fact.data["n"] == 0 {
                    tokio::time::sleep(Duration::from_millis(2500)).await;
                } else {
                    second_handled.fetch_add(1, Ordering::SeqCst);
                }
                Ok(Outcome::Applied)
            })
        },
    );

    until_handled("the second fact is handled", &second_handled, |n| n > 0).await;
    // Long enough for a second delivery of the waiting fact to have been handled too.
    tokio::time::sleep(Duration::from_secs(3)).await;
    background.stop().await;
    assert_eq!(
        second_handled.load(Ordering::SeqCst),
        1,
        "the waiting fact ran out its ack wait and came again"
    );
}
