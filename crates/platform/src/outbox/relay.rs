//! Moves outbox messages to JetStream.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{
    self,
    context::{Publish, PublishAckFuture},
};
use chrono::Utc;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::{OutboxMessage, OutboxStore, atomic, waves};
use crate::error::ErrorChain;
use crate::metrics::{self, names};
use crate::store::StoreError;

/// How often the backlog gauges are refreshed at most (a count over the unpublished rows).
const GAUGE_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("reading or updating the outbox failed")]
    Store(#[from] StoreError),
    #[error("publishing outbox message {id} on {subject} failed")]
    Publish {
        id: Uuid,
        subject: String,
        #[source]
        source: jetstream::context::PublishError,
    },
}

/// A background publisher of one outbox. Services call `notify_one()` on the [`Notify`] they
/// passed in right after committing a transaction that wrote to the outbox (`notify_one` keeps a
/// permit when the relay is busy, so no wake-up is lost); a slow poll picks up whatever was left
/// by a previous process or a failed attempt.
pub struct Relay {
    /// Labels the relay's metrics.
    service: &'static str,
    store: Arc<dyn OutboxStore>,
    /// Sends the messages of an atomic batch before the one that commits it.
    client: async_nats::Client,
    js: jetstream::Context,
    wake: Arc<Notify>,
    batch_size: usize,
    poll_interval: Duration,
    min_backoff: Duration,
    max_backoff: Duration,
    retention: chrono::Duration,
}

impl Relay {
    /// The relay of `service`'s outbox (the name labels its metrics), publishing on `client`.
    pub fn new(
        service: &'static str,
        store: Arc<dyn OutboxStore>,
        client: async_nats::Client,
        wake: Arc<Notify>,
    ) -> Self {
        Self {
            service,
            store,
            js: crate::nats::jetstream(client.clone()),
            client,
            wake,
            // One store call reads a batch and one marks it; between them it leaves as atomic
            // batches of up to a thousand messages, each acknowledged as a whole.
            batch_size: 2000,
            poll_interval: Duration::from_secs(1),
            min_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(30),
            retention: chrono::Duration::days(7),
        }
    }

    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n.max(1);
        self
    }

    /// How long a publish may wait for the stream's acknowledgement before it counts as failed.
    pub fn ack_timeout(mut self, timeout: Duration) -> Self {
        self.js.set_timeout(timeout);
        self
    }

    pub fn poll_interval(mut self, every: Duration) -> Self {
        self.poll_interval = every;
        self
    }

    /// Bounds of the exponential wait after a failure.
    pub fn backoff(mut self, min: Duration, max: Duration) -> Self {
        self.min_backoff = min;
        self.max_backoff = max.max(min);
        self
    }

    /// How long published messages stay in the outbox before they are deleted.
    pub fn retention(mut self, keep: chrono::Duration) -> Self {
        self.retention = keep;
        self
    }

    /// Starts relaying on the current runtime until the handle is stopped or dropped.
    pub fn spawn(self) -> RelayHandle {
        let (stop_tx, stop_rx) = watch::channel(false);
        let task = tokio::spawn(self.run(stop_rx));
        RelayHandle {
            stop: stop_tx,
            task: Some(task),
        }
    }

    async fn run(self, mut stop: watch::Receiver<bool>) {
        const PURGE_EVERY: Duration = Duration::from_secs(3600);
        let mut backoff = self.min_backoff;
        let mut last_purge: Option<tokio::time::Instant> = None;
        let mut last_gauge: Option<tokio::time::Instant> = None;
        loop {
            if *stop.borrow() {
                return;
            }
            let drained = self.drain(&stop).await;
            if last_gauge.is_none_or(|t| t.elapsed() >= GAUGE_EVERY) {
                last_gauge = Some(tokio::time::Instant::now());
                self.measure_backlog().await;
            }
            match drained {
                Ok(()) => {
                    backoff = self.min_backoff;
                    if last_purge.is_none_or(|t| t.elapsed() >= PURGE_EVERY) {
                        last_purge = Some(tokio::time::Instant::now());
                        self.purge().await;
                    }
                    tokio::select! {
                        _ = self.wake.notified() => {}
                        _ = tokio::time::sleep(self.poll_interval) => {}
                        _ = stop.changed() => return,
                    }
                }
                Err(e) => {
                    tracing::warn!(
                        error = %ErrorChain(&e),
                        retry_in_ms = backoff.as_millis() as u64,
                        "outbox relay failed, retrying"
                    );
                    // Wake-ups are ignored here: while the broker is down they would turn the
                    // backoff into a busy loop.
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = stop.changed() => return,
                    }
                    backoff = (backoff * 2).min(self.max_backoff);
                }
            }
        }
    }

    /// Publishes until the outbox is empty: a batch at a time, as atomic batches (see
    /// [`atomic`]), then one store call marks what was acknowledged.
    async fn drain(&self, stop: &watch::Receiver<bool>) -> Result<(), RelayError> {
        loop {
            let batch = self.store.pending(self.batch_size).await?;
            let full = batch.len() >= self.batch_size;
            let (sent, failure) = self.publish_batch(&batch, stop).await;
            self.store.mark_published(&sent).await?;
            metrics::counter!(names::OUTBOX_PUBLISHED, "service" => self.service)
                .increment(sent.len() as u64);
            if let Some(e) = failure {
                return Err(e);
            }
            if !full || *stop.borrow() {
                return Ok(());
            }
        }
    }

    /// Sends `batch` wave by wave (see [`waves`]): a wave's messages as atomic batches, one per
    /// stream and all in flight together (see [`atomic`]), or one at a time, all in flight
    /// together, where a stream does not take the batch. Returns the ids the stream acknowledged
    /// and the first failure, after which no further wave leaves: the failed message and
    /// everything after it of its aggregate stay pending.
    async fn publish_batch(
        &self,
        batch: &[OutboxMessage],
        stop: &watch::Receiver<bool>,
    ) -> (Vec<Uuid>, Option<RelayError>) {
        let keys: Vec<_> = batch.iter().map(waves::aggregate).collect();
        let mut sent = Vec::with_capacity(batch.len());
        for wave in waves::waves(&keys) {
            if *stop.borrow() {
                break;
            }
            let (batches, singles): (Vec<_>, Vec<_>) = atomic::groups(batch, &wave, atomic::LIMIT)
                .into_iter()
                .partition(|group| group.len() > 1);
            let mut one_at_a_time: Vec<usize> = singles.concat();
            // A wave's messages need no order among themselves: its batches go together.
            let outcomes = futures::future::join_all(
                batches
                    .iter()
                    .map(|group| self.publish_atomic(batch, group)),
            )
            .await;
            for (group, outcome) in batches.into_iter().zip(outcomes) {
                match outcome {
                    Ok(()) => sent.extend(group.iter().map(|&i| batch[i].id)),
                    // Slower, and right whatever the reason (a message the stream already has,
                    // a stream without atomic batches, a broker going away).
                    Err(e) => {
                        tracing::debug!(
                            error = %e,
                            messages = group.len(),
                            "atomic batch not taken, publishing one at a time"
                        );
                        one_at_a_time.extend(group);
                    }
                }
            }
            if let Some(failure) = self.publish_each(batch, &one_at_a_time, &mut sent).await {
                return (sent, Some(failure));
            }
        }
        (sent, None)
    }

    /// Publishes the messages of `batch` at positions `group` (at least two, one stream) as one
    /// atomic batch and waits for the stream to acknowledge the whole of it.
    async fn publish_atomic(
        &self,
        batch: &[OutboxMessage],
        group: &[usize],
    ) -> Result<(), async_nats::Error> {
        let id = Uuid::new_v4().simple().to_string();
        let (last, first) = group.split_last().expect("a group holds messages");
        for (i, &at) in first.iter().enumerate() {
            let msg = &batch[at];
            let headers = atomic::batch_headers(msg, &id, i + 1, group.len());
            self.client
                .publish_with_headers(msg.subject.clone(), headers, msg.payload.clone().into())
                .await?;
        }
        let msg = &batch[*last];
        let commit = Publish::build()
            .headers(atomic::batch_headers(msg, &id, group.len(), group.len()))
            .payload(msg.payload.clone().into());
        self.js
            .send_publish(msg.subject.clone(), commit)
            .await?
            .await?;
        Ok(())
    }

    /// Publishes the messages of `batch` at positions `group` one at a time, every one handed to
    /// the connection before any ack is awaited; adds the acknowledged ids to `sent` and returns
    /// the first failure. After a failure to hand one over, the rest of the group stays back.
    async fn publish_each(
        &self,
        batch: &[OutboxMessage],
        group: &[usize],
        sent: &mut Vec<Uuid>,
    ) -> Option<RelayError> {
        let mut failure = None;
        let mut in_flight = Vec::with_capacity(group.len());
        for &i in group {
            match self.send(&batch[i]).await {
                Ok(ack) => in_flight.push((i, ack)),
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        let acks = futures::future::join_all(
            in_flight
                .into_iter()
                .map(|(i, ack)| async move { (i, ack.await) }),
        )
        .await;
        for (i, ack) in acks {
            let msg = &batch[i];
            match ack {
                Ok(ack) => {
                    if ack.duplicate {
                        tracing::debug!(id = %msg.id, "stream already had this message");
                    }
                    sent.push(msg.id);
                }
                Err(source) => {
                    failure.get_or_insert(RelayError::Publish {
                        id: msg.id,
                        subject: msg.subject.clone(),
                        source,
                    });
                }
            }
        }
        failure
    }

    /// Hands `msg` to the connection; the returned future resolves with the stream's ack.
    async fn send(&self, msg: &OutboxMessage) -> Result<PublishAckFuture, RelayError> {
        let publish = Publish::build()
            .headers(atomic::headers(msg))
            .payload(msg.payload.clone().into());
        self.js
            .send_publish(msg.subject.clone(), publish)
            .await
            .map_err(|source| RelayError::Publish {
                id: msg.id,
                subject: msg.subject.clone(),
                source,
            })
    }

    /// Sets the backlog gauges. A failure only leaves them as they were: the relay's own error
    /// handling reports store trouble.
    async fn measure_backlog(&self) {
        if let Ok(backlog) = self.store.backlog().await {
            let age = backlog.oldest.map_or(0.0, |t| {
                (Utc::now() - t).num_milliseconds().max(0) as f64 / 1000.0
            });
            metrics::gauge!(names::OUTBOX_BACKLOG, "service" => self.service)
                .set(backlog.messages as f64);
            metrics::gauge!(names::OUTBOX_OLDEST_AGE, "service" => self.service).set(age);
        }
    }

    async fn purge(&self) {
        match self
            .store
            .purge_published(Utc::now() - self.retention)
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(purged = n, "old published outbox messages deleted"),
            Err(e) => tracing::warn!(error = %ErrorChain(&e), "outbox purge failed"),
        }
    }
}

/// Controls a spawned [`Relay`]; dropping it stops the relay too.
pub struct RelayHandle {
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl RelayHandle {
    /// Stops after the message being published (if any) and waits for the task to end.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RelayHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
