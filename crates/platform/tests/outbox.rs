//! The outbox relay against a real nats-server: every message reaches the stream exactly once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_nats::jetstream;
use async_nats::jetstream::message::StreamMessage;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use contracts::Envelope;
use contracts::subjects::{CATALOG_EVENT_PUBLISHED, headers, streams};
use platform::StoreError;
use platform::outbox::{
    Backlog, OutboxMessage, OutboxStore, Relay, SQLITE_DDL, SqliteOutbox, insert_sqlite,
};
use platform::sqlite::Sqlite;
use platform::testing::NatsServer;
use serde_json::json;
use tokio::sync::Notify;
use uuid::Uuid;

struct Broker {
    _server: NatsServer,
    client: async_nats::Client,
    js: jetstream::Context,
}

async fn broker() -> Broker {
    let server = NatsServer::start();
    let client = platform::nats::connect(&server.url(), "outbox-test", Duration::from_secs(5))
        .await
        .unwrap();
    let js = jetstream::new(client.clone());
    platform::nats::ensure_streams(&js).await.unwrap();
    Broker {
        _server: server,
        client,
        js,
    }
}

fn db() -> Sqlite {
    Sqlite::open_in_memory(&[SQLITE_DDL]).unwrap()
}

/// A broker and an empty SQLite outbox: the database to write to and the store a relay reads.
async fn broker_and_outbox() -> (Broker, Sqlite, Arc<SqliteOutbox>) {
    let db = db();
    let store = Arc::new(SqliteOutbox::new(db.clone()));
    (broker().await, db, store)
}

fn message(n: u32) -> OutboxMessage {
    let envelope = Envelope::new(
        CATALOG_EVENT_PUBLISHED,
        "outbox-test",
        None,
        json!({ "n": n }),
    );
    OutboxMessage::from_envelope(&envelope)
        .unwrap()
        .with_traceparent(Some(
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into(),
        ))
}

async fn write(db: &Sqlite, msg: &OutboxMessage) {
    write_all(db, std::slice::from_ref(msg)).await;
}

/// Writes `msgs` to the outbox in one transaction.
async fn write_all(db: &Sqlite, msgs: &[OutboxMessage]) {
    let msgs = msgs.to_vec();
    db.call(move |c| {
        let tx = c.transaction()?;
        for m in &msgs {
            insert_sqlite(&tx, m)?;
        }
        tx.commit()?;
        Ok(())
    })
    .await
    .unwrap();
}

async fn stream_count(js: &jetstream::Context) -> u64 {
    let mut stream = js.get_stream(streams::CATALOG).await.unwrap();
    stream.info().await.unwrap().state.messages
}

/// The message at `seq` (counted from 1) in the CATALOG stream.
async fn stored_at(js: &jetstream::Context, seq: u64) -> StreamMessage {
    let stream = js.get_stream(streams::CATALOG).await.unwrap();
    stream.get_raw_message(seq).await.unwrap()
}

/// Waits until the stream holds `n` messages (or fails after 10 s).
async fn wait_for_count(js: &jetstream::Context, n: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let count = stream_count(js).await;
        if count == n {
            return;
        }
        assert!(count < n, "the stream holds {count} messages, expected {n}");
        assert!(
            tokio::time::Instant::now() < deadline,
            "the stream holds {count} messages, expected {n}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn wait_until_nothing_pending(store: &dyn OutboxStore) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !store.pending(10).await.unwrap().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the outbox still has pending messages"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn fast(relay: Relay) -> Relay {
    relay
        .poll_interval(Duration::from_millis(50))
        .backoff(Duration::from_millis(20), Duration::from_millis(200))
}

/// A relay that finds rows by polling alone: nobody wakes it.
fn polling(store: Arc<dyn OutboxStore>, client: &async_nats::Client) -> Relay {
    fast(Relay::new(
        "test",
        store,
        client.clone(),
        Arc::new(Notify::new()),
    ))
}

#[tokio::test]
async fn a_message_written_to_the_outbox_reaches_the_stream_once_with_its_msg_id() {
    let (broker, db, store) = broker_and_outbox().await;
    let wake = Arc::new(Notify::new());
    // A long poll proves the wake-up, not the poll, delivers it.
    let relay = Relay::new("test", store.clone(), broker.client.clone(), wake.clone())
        .poll_interval(Duration::from_secs(60))
        .spawn();

    let msg = message(1);
    write(&db, &msg).await;
    wake.notify_one();

    wait_for_count(&broker.js, 1).await;
    wait_until_nothing_pending(store.as_ref()).await;
    let stored = stored_at(&broker.js, 1).await;
    assert_eq!(stored.subject.as_str(), CATALOG_EVENT_PUBLISHED);
    assert_eq!(stored.payload.as_ref(), msg.payload.as_slice());
    assert_eq!(
        // The well-known constant: a `&str` name would be looked up as a custom header.
        stored
            .headers
            .get(async_nats::header::NATS_MESSAGE_ID)
            .map(|v| v.as_str()),
        Some(msg.id.to_string().as_str())
    );
    assert_eq!(
        stored.headers.get(headers::TRACEPARENT).map(|v| v.as_str()),
        msg.traceparent.as_deref()
    );

    // Further wake-ups find nothing left to send.
    wake.notify_one();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(stream_count(&broker.js).await, 1);
    relay.stop().await;
}

#[tokio::test]
async fn messages_are_published_in_the_order_they_were_written() {
    let (broker, db, store) = broker_and_outbox().await;
    let msgs: Vec<_> = (0..5).map(message).collect();
    for m in &msgs {
        write(&db, m).await;
    }
    let relay = polling(store, &broker.client).batch_size(2).spawn();
    wait_for_count(&broker.js, 5).await;
    for (seq, m) in (1..).zip(&msgs) {
        let stored = stored_at(&broker.js, seq).await;
        assert_eq!(
            stored.payload.as_ref(),
            m.payload.as_slice(),
            "message {seq}"
        );
    }
    relay.stop().await;
}

#[tokio::test]
async fn a_message_written_while_no_relay_runs_is_delivered_once_by_the_next_relay() {
    let (broker, db, store) = broker_and_outbox().await;
    let wake = Arc::new(Notify::new());
    let first = fast(Relay::new(
        "test",
        store.clone(),
        broker.client.clone(),
        wake.clone(),
    ))
    .spawn();
    first.stop().await;

    let msg = message(7);
    write(&db, &msg).await;
    wake.notify_one();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        stream_count(&broker.js).await,
        0,
        "a stopped relay published"
    );

    // A new process: a fresh relay finds the row by polling, without any wake-up.
    let second = polling(store.clone(), &broker.client).spawn();
    wait_for_count(&broker.js, 1).await;
    wait_until_nothing_pending(store.as_ref()).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(stream_count(&broker.js).await, 1);
    second.stop().await;
}

/// An outbox whose first `mark_published` fails, as if the process died right after the publish.
struct ForgetfulOutbox {
    inner: SqliteOutbox,
    marks_to_fail: AtomicUsize,
    published_calls: AtomicUsize,
}

#[async_trait]
impl OutboxStore for ForgetfulOutbox {
    async fn pending(&self, limit: usize) -> Result<Vec<OutboxMessage>, StoreError> {
        self.inner.pending(limit).await
    }

    async fn mark_published(&self, ids: &[Uuid]) -> Result<(), StoreError> {
        self.published_calls.fetch_add(1, Ordering::SeqCst);
        if self
            .marks_to_fail
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(StoreError::corrupt("disk unplugged"));
        }
        self.inner.mark_published(ids).await
    }

    async fn purge_published(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        self.inner.purge_published(before).await
    }

    async fn backlog(&self) -> Result<Backlog, StoreError> {
        self.inner.backlog().await
    }
}

#[tokio::test]
async fn a_publish_whose_mark_is_lost_is_sent_again_and_dropped_by_the_stream() {
    let broker = broker().await;
    let db = db();
    let store = Arc::new(ForgetfulOutbox {
        inner: SqliteOutbox::new(db.clone()),
        marks_to_fail: AtomicUsize::new(1),
        published_calls: AtomicUsize::new(0),
    });
    write(&db, &message(3)).await;
    let relay = polling(store.clone(), &broker.client).spawn();

    wait_until_nothing_pending(&store.inner).await;
    assert!(
        store.published_calls.load(Ordering::SeqCst) >= 2,
        "the relay did not retry"
    );
    assert_eq!(stream_count(&broker.js).await, 1);
    relay.stop().await;
}

#[tokio::test]
async fn the_relay_keeps_retrying_while_the_broker_is_down_and_delivers_when_it_is_back() {
    let mut server = NatsServer::start();
    let client = platform::nats::connect(&server.url(), "outbox-test", Duration::from_secs(5))
        .await
        .unwrap();
    let mut js = jetstream::new(client.clone());
    js.set_timeout(Duration::from_millis(500));
    platform::nats::ensure_streams(&js).await.unwrap();
    server.stop();

    let db = db();
    let store = Arc::new(SqliteOutbox::new(db.clone()));
    write(&db, &message(9)).await;
    let relay = polling(store.clone(), &client)
        .ack_timeout(Duration::from_millis(500))
        .spawn();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        store.pending(10).await.unwrap().len(),
        1,
        "nothing can be acked while NATS is down"
    );

    server.restart();
    wait_until_nothing_pending(store.as_ref()).await;
    wait_for_count(&js, 1).await;
    relay.stop().await;
}

#[tokio::test]
async fn published_messages_are_kept_until_purged() {
    let db = db();
    let store = SqliteOutbox::new(db.clone());
    let (a, b) = (message(1), message(2));
    write(&db, &a).await;
    write(&db, &b).await;
    assert_eq!(store.pending(10).await.unwrap(), vec![a.clone(), b.clone()]);
    assert_eq!(store.pending(1).await.unwrap(), vec![a.clone()]);

    store.mark_published(&[a.id]).await.unwrap();
    assert_eq!(store.pending(10).await.unwrap(), vec![b.clone()]);
    assert_eq!(
        store
            .purge_published(Utc::now() - chrono::Duration::hours(1))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .purge_published(Utc::now() + chrono::Duration::seconds(1))
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.pending(10).await.unwrap(), vec![b]);
}

/// A message about `aggregate` on `subject`.
fn about(aggregate: &str, subject: &str, n: u32) -> OutboxMessage {
    let envelope = Envelope::new(
        subject,
        "outbox-test",
        Some(aggregate.into()),
        json!({ "n": n }),
    );
    OutboxMessage::on_subject(subject, &envelope).unwrap()
}

#[tokio::test]
async fn a_large_backlog_reaches_the_stream_once_in_order_per_aggregate() {
    let (broker, db, store) = broker_and_outbox().await;
    // Three aggregates interleaved, more than one batch of them.
    let msgs: Vec<_> = (0..1200)
        .map(|n| about(&format!("agg-{}", n % 3), CATALOG_EVENT_PUBLISHED, n))
        .collect();
    write_all(&db, &msgs).await;
    let relay = polling(store.clone(), &broker.client).spawn();
    wait_for_count(&broker.js, msgs.len() as u64).await;
    wait_until_nothing_pending(store.as_ref()).await;

    let stream = broker.js.get_stream(streams::CATALOG).await.unwrap();
    let mut last_of: std::collections::HashMap<String, u64> = Default::default();
    for seq in 1..=msgs.len() as u64 {
        let stored = stream.get_raw_message(seq).await.unwrap();
        let envelope: serde_json::Value = serde_json::from_slice(&stored.payload).unwrap();
        let aggregate = envelope["subject"].as_str().unwrap().to_string();
        let n = envelope["data"]["n"].as_u64().unwrap();
        if let Some(previous) = last_of.insert(aggregate.clone(), n) {
            assert!(
                previous < n,
                "{aggregate}: message {n} stored after {previous}"
            );
        }
    }
    relay.stop().await;
}

#[tokio::test]
async fn a_failed_publish_holds_back_the_later_messages_of_its_aggregate_only() {
    let (broker, db, store) = broker_and_outbox().await;
    // No stream takes `nowhere.*`: every publish of the first message fails.
    let stuck = about("order-1", "nowhere.created", 0);
    let after_stuck = about("order-1", CATALOG_EVENT_PUBLISHED, 1);
    let other = about("order-2", CATALOG_EVENT_PUBLISHED, 2);
    for m in [&stuck, &after_stuck, &other] {
        write(&db, m).await;
    }
    let relay = polling(store.clone(), &broker.client).spawn();

    wait_for_count(&broker.js, 1).await;
    // Several retries later, order-1's second message still waits behind its first.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(stream_count(&broker.js).await, 1);
    let stored = stored_at(&broker.js, 1).await;
    assert_eq!(stored.payload.as_ref(), other.payload.as_slice());
    assert_eq!(store.pending(10).await.unwrap(), vec![stuck, after_stuck]);
    relay.stop().await;
}

/// `n` messages, each about an aggregate of its own (one wave).
fn burst(n: u32) -> Vec<OutboxMessage> {
    (0..n)
        .map(|n| about(&format!("order-{n}"), CATALOG_EVENT_PUBLISHED, n))
        .collect()
}

/// The `Nats-Msg-Id`s the CATALOG stream holds, in stream order.
async fn stored_ids(js: &jetstream::Context) -> Vec<String> {
    let stream = js.get_stream(streams::CATALOG).await.unwrap();
    let mut ids = Vec::new();
    for seq in 1..=stream_count(js).await {
        let stored = stream.get_raw_message(seq).await.unwrap();
        let id = stored.headers.get(async_nats::header::NATS_MESSAGE_ID);
        ids.push(id.unwrap().as_str().to_string());
    }
    ids
}

fn ids_of(msgs: &[OutboxMessage]) -> Vec<String> {
    msgs.iter().map(|m| m.id.to_string()).collect()
}

#[tokio::test]
async fn a_burst_leaves_as_atomic_batches_and_reaches_the_stream_once_each_in_order() {
    let (broker, db, store) = broker_and_outbox().await;
    // More than one atomic batch (at most 1,000 messages) and more than one relay batch.
    let msgs = burst(2500);
    write_all(&db, &msgs).await;

    let relay = polling(store.clone(), &broker.client).spawn();
    wait_for_count(&broker.js, msgs.len() as u64).await;
    wait_until_nothing_pending(store.as_ref()).await;

    assert_eq!(stored_ids(&broker.js).await, ids_of(&msgs));
    let stored = stored_at(&broker.js, 1).await;
    assert!(
        stored.headers.get("Nats-Batch-Id").is_some(),
        "the messages did not leave as an atomic batch"
    );
    relay.stop().await;
}

#[tokio::test]
async fn a_batch_holding_a_message_the_stream_already_has_is_published_one_at_a_time() {
    let (broker, db, store) = broker_and_outbox().await;
    let msgs = burst(5);
    // The second message reached the stream once already, and the process died before marking it.
    let ack = broker
        .js
        .send_publish(
            msgs[1].subject.clone(),
            jetstream::context::Publish::build()
                .message_id(msgs[1].id.to_string())
                .payload(msgs[1].payload.clone().into()),
        )
        .await
        .unwrap();
    ack.await.unwrap();
    write_all(&db, &msgs).await;

    let relay = polling(store.clone(), &broker.client).spawn();
    wait_until_nothing_pending(store.as_ref()).await;

    // The server refuses the whole atomic batch; one at a time, its de-duplication drops the copy.
    let mut expected = vec![msgs[1].id.to_string()];
    expected.extend(
        msgs.iter()
            .filter(|m| m.id != msgs[1].id)
            .map(|m| m.id.to_string()),
    );
    assert_eq!(stored_ids(&broker.js).await, expected);
    relay.stop().await;
}

#[tokio::test]
async fn a_stream_without_atomic_batches_still_gets_every_message_once() {
    let broker = broker().await;
    // The client's typed config has no `allow_atomic`: an update through it switches it off.
    let (_, json) = contracts::jetstream::STREAMS
        .iter()
        .find(|(name, _)| *name == streams::CATALOG)
        .unwrap();
    let config: jetstream::stream::Config = serde_json::from_str(json).unwrap();
    broker.js.update_stream(config).await.unwrap();
    assert!(!allows_atomic(&broker.js, streams::CATALOG).await);

    let db = db();
    let store = Arc::new(SqliteOutbox::new(db.clone()));
    let msgs = burst(50);
    write_all(&db, &msgs).await;
    let relay = polling(store.clone(), &broker.client).spawn();
    wait_until_nothing_pending(store.as_ref()).await;

    let mut stored = stored_ids(&broker.js).await;
    let mut expected = ids_of(&msgs);
    stored.sort();
    expected.sort();
    assert_eq!(stored, expected);
    relay.stop().await;
}

/// Whether `stream` takes atomic batches, as the server reports its config.
async fn allows_atomic(js: &jetstream::Context, stream: &str) -> bool {
    let info: serde_json::Value = js
        .request(format!("STREAM.INFO.{stream}"), &())
        .await
        .unwrap();
    info["config"]["allow_atomic"].as_bool().unwrap_or(false)
}

#[tokio::test]
async fn starting_a_service_turns_atomic_batches_on_for_every_stream_it_finds_without_them() {
    let broker = broker().await;
    for (name, json) in contracts::jetstream::STREAMS {
        assert!(allows_atomic(&broker.js, name).await, "{name} on creation");
        let config: jetstream::stream::Config = serde_json::from_str(json).unwrap();
        broker.js.update_stream(config).await.unwrap();
        assert!(!allows_atomic(&broker.js, name).await);
    }

    platform::nats::ensure_streams(&broker.js).await.unwrap();

    for (name, _) in contracts::jetstream::STREAMS {
        assert!(
            allows_atomic(&broker.js, name).await,
            "{name} after a start"
        );
    }
}
