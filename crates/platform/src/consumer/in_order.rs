//! Many facts in flight, but never two of one aggregate: a consumer handling `concurrency`
//! messages at once keeps the stream's order among the facts of each order or event (created
//! before confirmed before cancelled), so a handler may plan a fact against a projection the
//! previous fact of its aggregate already updated.
//!
//! Each message takes a turn when it arrives, in stream order: it waits for the last message of
//! its aggregate taken before it to be handled, and the next one of that aggregate waits for it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

/// The turns of the aggregates with a message in flight.
#[derive(Default)]
pub struct InOrder {
    /// Per aggregate: the number of its latest turn and the signal that turn ends with.
    last: Mutex<HashMap<String, (u64, oneshot::Receiver<()>)>>,
    taken: AtomicU64,
}

/// A message's place behind the earlier messages of its aggregate.
pub struct Turn {
    gate: Arc<InOrder>,
    aggregate: String,
    number: u64,
    before: Option<oneshot::Receiver<()>>,
    /// Dropped with the turn, which tells the next message of the aggregate it may go.
    _done: oneshot::Sender<()>,
}

impl InOrder {
    /// Takes the next turn of `aggregate`; call in the order messages arrive.
    pub fn take(self: &Arc<Self>, aggregate: &str) -> Turn {
        let number = self.taken.fetch_add(1, Ordering::Relaxed);
        let (done, ends) = oneshot::channel();
        let before = self
            .last
            .lock()
            .expect("turns")
            .insert(aggregate.to_owned(), (number, ends))
            .map(|(_, ends)| ends);
        Turn {
            gate: self.clone(),
            aggregate: aggregate.to_owned(),
            number,
            before,
            _done: done,
        }
    }

    /// How many aggregates have a message in flight or waiting.
    #[cfg(test)]
    fn aggregates_in_flight(&self) -> usize {
        self.last.lock().expect("turns").len()
    }
}

impl Turn {
    /// Waits until every earlier message of the aggregate was handled.
    pub async fn wait(&mut self) {
        if let Some(before) = self.before.take() {
            // An error means the earlier turn ended (its sender is dropped): the same signal.
            let _ = before.await;
        }
    }
}

impl Drop for Turn {
    /// Ends the turn: the next message of the aggregate may go, and an aggregate nobody queued
    /// behind is forgotten.
    fn drop(&mut self) {
        let mut last = self.gate.last.lock().expect("turns");
        if last
            .get(&self.aggregate)
            .is_some_and(|(number, _)| *number == self.number)
        {
            last.remove(&self.aggregate);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_later_message_of_an_aggregate_waits_for_the_earlier_one() {
        // Given a message of order-1 in flight
        let gate = Arc::new(InOrder::default());
        let mut first = gate.take("order-1");
        first.wait().await;
        // When a second message of order-1 arrives
        let mut second = gate.take("order-1");
        // Then it waits while the first is handled
        let waited = tokio::time::timeout(Duration::from_millis(50), second.wait()).await;
        assert!(waited.is_err(), "the second went before the first ended");
        // And goes once the first is done
        drop(first);
        tokio::time::timeout(Duration::from_secs(1), second.wait())
            .await
            .expect("the second still waits");
    }

    #[tokio::test]
    async fn messages_of_other_aggregates_do_not_wait() {
        let gate = Arc::new(InOrder::default());
        let _first = gate.take("order-1");
        let mut other = gate.take("order-2");
        tokio::time::timeout(Duration::from_millis(50), other.wait())
            .await
            .expect("order-2 waited for order-1");
    }

    #[tokio::test]
    async fn an_aggregate_is_forgotten_once_its_last_message_is_handled() {
        let gate = Arc::new(InOrder::default());
        let first = gate.take("order-1");
        let mut second = gate.take("order-1");
        drop(first);
        assert_eq!(gate.aggregates_in_flight(), 1);
        second.wait().await;
        drop(second);
        assert_eq!(gate.aggregates_in_flight(), 0);
    }

    #[tokio::test]
    async fn the_messages_of_one_aggregate_are_handled_in_the_order_they_arrived() {
        // Given twenty messages of three aggregates, handled concurrently with random delays
        let gate = Arc::new(InOrder::default());
        let handled = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for n in 0..20u64 {
            let aggregate = format!("order-{}", n % 3);
            let mut turn = gate.take(&aggregate);
            let handled = handled.clone();
            tasks.push(tokio::spawn(async move {
                turn.wait().await;
                tokio::time::sleep(Duration::from_millis((n * 7919) % 13)).await;
                handled.lock().unwrap().push((aggregate, n));
                drop(turn);
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        // Then each aggregate's messages were handled in arrival order
        let handled = handled.lock().unwrap();
        for aggregate in ["order-0", "order-1", "order-2"] {
            let order: Vec<u64> = handled
                .iter()
                .filter(|(a, _)| a == aggregate)
                .map(|(_, n)| *n)
                .collect();
            let mut sorted = order.clone();
            sorted.sort();
            assert_eq!(order, sorted, "{aggregate}");
        }
        assert_eq!(handled.len(), 20);
    }
}
