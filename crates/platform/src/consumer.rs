//! Durable pull consumers with explicit ack, bounded redelivery with backoff and a dead-letter
//! path. A service supplies a handler `msg -> Result<Outcome, HandleError>`; handlers must be
//! idempotent (a redelivered event has no second effect), which the services achieve by recording
//! processed event ids in the same transaction as the effect.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use async_nats::HeaderMap;
use async_nats::jetstream::{self, AckKind, Message};
use contracts::Envelope;
use contracts::jetstream::ConsumerDef;
use contracts::subjects::{dead_letter, headers};
use futures::StreamExt;
use serde::de::DeserializeOwned;
use tracing::Instrument as _;

use crate::metrics::{self, names};

mod in_order;

use in_order::InOrder;

/// What a handler did with a message; every outcome acknowledges it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The event had its effect now.
    Applied,
    /// The event id was processed before; nothing happened.
    Duplicate,
    /// The event does not concern this service (or no longer applies); nothing happened.
    Ignored,
}

#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    /// Worth retrying later (store or network trouble): the message is redelivered with backoff,
    /// and dead-lettered once the consumer's `max_deliver` is reached.
    #[error("transient failure")]
    Transient(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Can never succeed (unreadable payload): dead-lettered at once.
    #[error("poison message: {0}")]
    Poison(String),
}

impl HandleError {
    pub fn transient(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        HandleError::Transient(Box::new(e))
    }
}

impl From<crate::StoreError> for HandleError {
    fn from(e: crate::StoreError) -> Self {
        HandleError::transient(e)
    }
}

/// Reads the envelope of a message; an unreadable one is poison.
pub fn envelope<T: DeserializeOwned>(msg: &Message) -> Result<Envelope<T>, HandleError> {
    serde_json::from_slice(&msg.payload)
        .map_err(|e| HandleError::Poison(format!("unreadable {} payload: {e}", msg.subject)))
}

/// The `traceparent` header of a message, to carry the trace into the events it causes.
pub fn traceparent(msg: &Message) -> Option<String> {
    msg.headers
        .as_ref()?
        .get(headers::TRACEPARENT)
        .map(|v| v.as_str().to_string())
}

/// Delay before redelivering after the n-th failed delivery: 1 s, 2 s, 4 s ... capped at 60 s.
pub fn backoff(delivered: i64) -> Duration {
    let exp = delivered.clamp(1, 7) as u32 - 1;
    Duration::from_secs(1 << exp).min(Duration::from_secs(60))
}

/// Creates or updates the consumer from its definition, then handles its messages until
/// `shutdown` resolves, `concurrency` at a time but one at a time per aggregate, in stream
/// order (see [`in_order`]). Survives NATS restarts.
pub async fn run<H, F>(
    js: jetstream::Context,
    def: ConsumerDef,
    concurrency: usize,
    handler: H,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()>
where
    H: Fn(Message) -> F + Send + Sync + 'static,
    F: Future<Output = (Message, Result<Outcome, HandleError>)> + Send,
{
    let consumer = crate::nats::ensure_consumer(&js, def.stream, def.json)
        .await
        .with_context(|| format!("consumer {}", def.name))?;
    let config = &consumer.cached_info().config;
    let (max_deliver, ack_wait) = (config.max_deliver, config.ack_wait);
    let handler = Arc::new(handler);
    let in_order = Arc::new(InOrder::default());
    let work = async {
        loop {
            let messages = match consumer.messages().await {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(consumer = def.name, error = %e, "cannot pull messages, retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            messages
                .for_each_concurrent(concurrency, |msg| {
                    let handler = handler.clone();
                    let js = js.clone();
                    // Taken here, as messages arrive, so turns follow the stream's order.
                    let turn = msg.as_ref().ok().map(|msg| {
                        in_order.take(&contracts::envelope::aggregate_of(
                            &msg.payload,
                            &msg.subject,
                        ))
                    });
                    async move {
                        match msg {
                            Ok(msg) => {
                                let mut turn = turn.expect("a message has a turn");
                                wait_for_turn(&mut turn, &msg, ack_wait).await;
                                // One span per delivery, continuing the trace of the request
                                // that caused the fact.
                                let span = tracing::info_span!(
                                    "consume",
                                    consumer = def.name,
                                    subject = %msg.subject,
                                );
                                crate::trace::follow(&span, traceparent(&msg).as_deref());
                                async {
                                    let (msg, result) = handler(msg).await;
                                    settle(&js, def.name, max_deliver, msg, result).await;
                                    drop(turn);
                                }
                                .instrument(span)
                                .await;
                            }
                            Err(e) => {
                                tracing::warn!(consumer = def.name, error = %e, "pull failed")
                            }
                        }
                    }
                })
                .await;
            // The stream of messages ended (connection lost); pull again after a pause.
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    };
    tokio::select! {
        _ = work => {},
        _ = shutdown => {},
    }
    Ok(())
}

/// Waits until the earlier messages of `msg`'s aggregate are handled, telling the server now and
/// then that `msg` is in progress: waiting behind a slow one must not run out its `ack_wait`
/// and have it delivered a second time.
async fn wait_for_turn(turn: &mut in_order::Turn, msg: &Message, ack_wait: Duration) {
    let every = (ack_wait / 3).max(Duration::from_millis(100));
    let wait = turn.wait();
    tokio::pin!(wait);
    loop {
        tokio::select! {
            _ = &mut wait => return,
            _ = tokio::time::sleep(every) => {
                if let Err(e) = msg.ack_with(AckKind::Progress).await {
                    tracing::debug!(error = %e, "could not extend the ack wait of a waiting message");
                }
            }
        }
    }
}

async fn settle(
    js: &jetstream::Context,
    consumer: &'static str,
    max_deliver: i64,
    msg: Message,
    result: Result<Outcome, HandleError>,
) {
    let (delivered, pending) = msg
        .info()
        .map_or((1, None), |i| (i.delivered, Some(i.pending)));
    if let Some(pending) = pending {
        metrics::gauge!(names::CONSUMER_PENDING, "consumer" => consumer).set(pending as f64);
    }
    let ack = match result {
        Ok(outcome) => {
            tracing::debug!(consumer, subject = %msg.subject, ?outcome, "message handled");
            count(consumer, "processed");
            AckKind::Ack
        }
        Err(HandleError::Poison(reason)) => dead_letter_or_retry(js, consumer, &msg, &reason).await,
        Err(HandleError::Transient(e)) => {
            let reason = crate::error::ErrorChain(e.as_ref()).to_string();
            if max_deliver > 0 && delivered >= max_deliver {
                dead_letter_or_retry(js, consumer, &msg, &reason).await
            } else {
                tracing::warn!(consumer, subject = %msg.subject, delivered, error = %reason, "handler failed, will retry");
                count(consumer, "retried");
                AckKind::Nak(Some(backoff(delivered)))
            }
        }
    };
    if let Err(e) = msg.ack_with(ack).await {
        // The server redelivers after ack_wait; idempotent handlers make that harmless.
        tracing::warn!(consumer, error = %e, "acknowledgement failed");
    }
}

fn count(consumer: &'static str, outcome: &'static str) {
    metrics::counter!(names::CONSUMER_MESSAGES, "consumer" => consumer, "outcome" => outcome)
        .increment(1);
}

/// Parks the message on `dlq.<consumer>` with the reason in a header; if even that fails, the
/// message is retried instead of dropped.
async fn dead_letter_or_retry(
    js: &jetstream::Context,
    consumer: &'static str,
    msg: &Message,
    reason: &str,
) -> AckKind {
    let mut h = HeaderMap::new();
    h.insert(headers::DLQ_REASON, reason);
    h.insert(headers::DLQ_ORIGINAL_SUBJECT, msg.subject.as_str());
    if let Ok(info) = msg.info() {
        h.insert(
            headers::DLQ_STREAM_SEQUENCE,
            info.stream_sequence.to_string().as_str(),
        );
        h.insert(
            async_nats::header::NATS_MESSAGE_ID,
            format!("{consumer}:{}:{}", info.stream, info.stream_sequence).as_str(),
        );
    }
    if let Some(tp) = traceparent(msg) {
        h.insert(headers::TRACEPARENT, tp.as_str());
    }
    let published = async {
        js.publish_with_headers(dead_letter(consumer), h, msg.payload.clone())
            .await?
            .await
            .map_err(anyhow::Error::from)
    };
    match published.await {
        Ok(_) => {
            tracing::error!(consumer, subject = %msg.subject, reason, "message dead-lettered");
            count(consumer, "dead_lettered");
            AckKind::Term
        }
        Err(e) => {
            tracing::error!(consumer, error = %e, "dead-lettering failed, will retry");
            AckKind::Nak(Some(Duration::from_secs(5)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redelivery_backs_off_exponentially_up_to_a_minute() {
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(2), Duration::from_secs(2));
        assert_eq!(backoff(4), Duration::from_secs(8));
        assert_eq!(backoff(7), Duration::from_secs(60));
        assert_eq!(backoff(100), Duration::from_secs(60));
    }
}
