//! The supervisor of background work against a real nats-server: a consumer that cannot start is
//! started again, and one stop ends it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_nats::jetstream;
use contracts::Envelope;
use contracts::jetstream::TICKET_CATALOG;
use contracts::subjects::CATALOG_EVENT_PUBLISHED;
use platform::background::Background;
use platform::consumer::Outcome;
use platform::testing::{NatsServer, eventually};
use serde_json::json;

#[tokio::test]
async fn a_consumer_that_cannot_start_is_started_again_until_it_handles_messages() {
    let server = NatsServer::start();
    let client = platform::nats::connect(&server.url(), "background-test", Duration::from_secs(5))
        .await
        .unwrap();
    let js = jetstream::new(client);
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
    let envelope = Envelope::new(CATALOG_EVENT_PUBLISHED, "test", None, json!({"n": 1}));
    js.publish(
        CATALOG_EVENT_PUBLISHED,
        serde_json::to_vec(&envelope).unwrap().into(),
    )
    .await
    .unwrap()
    .await
    .unwrap();

    eventually("the restarted consumer handles the message", || {
        let handled = handled.clone();
        async move { (handled.load(Ordering::SeqCst) == 1).then_some(()) }
    })
    .await;
    tokio::time::timeout(Duration::from_secs(5), background.stop())
        .await
        .expect("stop ends the consumer");
}
