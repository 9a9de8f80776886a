//! A service's background work, started in one place and stopped through one path: the outbox
//! relay, durable consumers (started again after an error, e.g. NATS away when the consumer was
//! created), periodic sweeps, and any other task that runs until the service stops.
//!
//! ```text
//! let background = Background::new()
//!     .relay(Relay::new("my-service", state.store.outbox(), state.nats.clone(), state.relay_wake.clone()))
//!     .consumer(js, PAYMENT_ORDERS, concurrency, state.clone(), |s, m| Box::pin(handle(s, m)))
//!     .every("maintenance", Duration::from_secs(10), state.clone(), |s| Box::pin(sweep(s)));
//! // ... serve until the shutdown signal ...
//! background.stop().await;
//! ```

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, Message};
use contracts::jetstream::ConsumerDef;
use futures::future::BoxFuture;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::consumer::{self, HandleError, Outcome};
use crate::error::ErrorChain;
use crate::outbox::{Relay, RelayHandle};

/// How long a failed consumer waits before it is started again.
pub const RESTART_AFTER: Duration = Duration::from_secs(1);

/// The running background work of a service. [`stop`](Self::stop) ends it all and waits;
/// dropping it ends it all without waiting.
pub struct Background {
    stop: watch::Sender<bool>,
    relay: Option<RelayHandle>,
    /// Consumers and sweeps: they watch the stop signal and end by themselves.
    supervised: Vec<JoinHandle<()>>,
    /// Tasks that know nothing of the stop signal: aborted.
    detached: Vec<JoinHandle<()>>,
}

impl Default for Background {
    fn default() -> Self {
        Self::new()
    }
}

impl Background {
    /// Nothing running yet; each builder method below starts one piece at once.
    pub fn new() -> Self {
        Self {
            stop: watch::channel(false).0,
            relay: None,
            supervised: Vec::new(),
            detached: Vec::new(),
        }
    }

    /// Publishes the outbox; stopped last, after the work that writes to the outbox.
    pub fn relay(mut self, relay: Relay) -> Self {
        self.relay = Some(relay.spawn());
        self
    }

    /// Consumes `def` with `handler`, `concurrency` messages at a time; when the consumer fails
    /// it is started again after [`RESTART_AFTER`]. `handler(&state, &msg)` is typically
    /// `|s, m| Box::pin(crate::consumer::handle(s, m))`.
    pub fn consumer<S, H>(
        mut self,
        js: jetstream::Context,
        def: ConsumerDef,
        concurrency: usize,
        state: S,
        handler: H,
    ) -> Self
    where
        S: Clone + Send + Sync + 'static,
        H: for<'a> Fn(&'a S, &'a Message) -> BoxFuture<'a, Result<Outcome, HandleError>>
            + Send
            + Sync
            + 'static,
    {
        let stop = self.stop.subscribe();
        let task = supervise_consumer(js, def, concurrency, state, Arc::new(handler), stop);
        self.supervised.push(tokio::spawn(task));
        self
    }

    /// Runs `sweep(&state)` now and then every `period` (a late run delays the next rather than
    /// bunching up); a failure is logged under `name` and the next run comes as planned.
    pub fn every<S, H, T, E>(
        mut self,
        name: &'static str,
        period: Duration,
        state: S,
        sweep: H,
    ) -> Self
    where
        S: Send + Sync + 'static,
        H: for<'a> Fn(&'a S) -> BoxFuture<'a, Result<T, E>> + Send + Sync + 'static,
        T: 'static,
        E: std::error::Error + 'static,
    {
        let mut stop = self.stop.subscribe();
        let task = async move {
            // `interval` refuses a zero period.
            let mut tick = tokio::time::interval(period.max(Duration::from_millis(1)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stopped(&mut stop) => return,
                }
                tokio::select! {
                    result = sweep(&state) => if let Err(e) = result {
                        tracing::warn!(task = name, error = %ErrorChain(&e), "periodic task failed");
                    },
                    _ = stopped(&mut stop) => return,
                }
            }
        };
        self.supervised.push(tokio::spawn(task));
        self
    }

    /// Runs `task` until the service stops (it is aborted then).
    pub fn task(mut self, task: impl Future<Output = ()> + Send + 'static) -> Self {
        self.detached.push(tokio::spawn(task));
        self
    }

    /// Stops consumers and sweeps and waits for them (a message being handled is left
    /// unacknowledged and comes again), aborts the other tasks, then stops the relay after the
    /// message it is publishing (unsent messages wait in the outbox for the next start).
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        for task in &self.detached {
            task.abort();
        }
        for task in self.supervised.drain(..).chain(self.detached.drain(..)) {
            let _ = task.await;
        }
        if let Some(relay) = self.relay.take() {
            relay.stop().await;
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        for task in self.supervised.iter().chain(&self.detached) {
            task.abort();
        }
    }
}

/// Resolves once a stop is asked for (or nobody can ask any more).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

async fn supervise_consumer<S, H>(
    js: jetstream::Context,
    def: ConsumerDef,
    concurrency: usize,
    state: S,
    handler: Arc<H>,
    mut stop: watch::Receiver<bool>,
) where
    S: Clone + Send + Sync + 'static,
    H: for<'a> Fn(&'a S, &'a Message) -> BoxFuture<'a, Result<Outcome, HandleError>>
        + Send
        + Sync
        + 'static,
{
    loop {
        let (handler, state) = (handler.clone(), state.clone());
        let handle = move |msg: Message| {
            let (handler, state) = (handler.clone(), state.clone());
            async move {
                let result = handler(&state, &msg).await;
                (msg, result)
            }
        };
        let mut until = stop.clone();
        let run = consumer::run(js.clone(), def, concurrency, handle, async move {
            stopped(&mut until).await
        });
        let Err(e) = run.await else {
            return;
        };
        tracing::warn!(consumer = def.name, error = %format!("{e:#}"), "consumer stopped, restarting");
        tokio::select! {
            _ = tokio::time::sleep(RESTART_AFTER) => {}
            _ = stopped(&mut stop) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("sweep failed")]
    struct SweepFailed;

    fn counting(runs: &Arc<AtomicUsize>, fail: bool) -> Background {
        Background::new().every(
            "count",
            Duration::from_millis(10),
            runs.clone(),
            move |runs| {
                Box::pin(async move {
                    runs.fetch_add(1, Ordering::SeqCst);
                    if fail { Err(SweepFailed) } else { Ok(()) }
                })
            },
        )
    }

    /// Runs a sweep every 10 ms for 100 ms, stops it, and says how often it ran by then and
    /// 50 ms later.
    async fn runs_before_and_after_stop(fail: bool) -> (usize, usize) {
        let runs = Arc::new(AtomicUsize::new(0));
        let background = counting(&runs, fail);
        tokio::time::sleep(Duration::from_millis(100)).await;
        background.stop().await;
        let at_stop = runs.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(50)).await;
        (at_stop, runs.load(Ordering::SeqCst))
    }

    #[tokio::test]
    async fn a_sweep_runs_at_once_then_every_period_until_stopped() {
        let (at_stop, later) = runs_before_and_after_stop(false).await;
        assert!(at_stop >= 3, "ran {at_stop} times");
        assert_eq!(later, at_stop, "ran after stop");
    }

    #[tokio::test]
    async fn a_failing_sweep_keeps_its_schedule() {
        let (at_stop, _) = runs_before_and_after_stop(true).await;
        assert!(at_stop >= 3, "ran {at_stop} times");
    }

    #[tokio::test]
    async fn dropping_the_background_stops_its_work() {
        let runs = Arc::new(AtomicUsize::new(0));
        drop(counting(&runs, false));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(runs.load(Ordering::SeqCst) <= 1);
    }

    #[tokio::test]
    async fn stop_ends_tasks_that_never_end_by_themselves() {
        let background = Background::new().task(std::future::pending());
        tokio::time::timeout(Duration::from_secs(1), background.stop())
            .await
            .expect("stop returns");
    }
}
