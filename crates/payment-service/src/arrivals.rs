//! Payments waiting for their order's first fact. A buyer can pay before `orders.created` has
//! reached this service; instead of polling the projection, the payment registers here and the
//! order consumer wakes it as soon as it has stored a fact about that order.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;
use tokio::sync::futures::Notified;
use uuid::Uuid;

/// Who waits for which order.
#[derive(Default)]
pub struct OrderArrivals {
    waiting: Mutex<HashMap<Uuid, Arc<Notify>>>,
}

impl OrderArrivals {
    /// Registers interest in order `id`; [`Expected::notified`] then resolves on the next
    /// [`OrderArrivals::arrived`] of that order.
    pub fn expect(&self, id: Uuid) -> Expected<'_> {
        let notify = self
            .lock()
            .entry(id)
            .or_insert_with(|| Arc::new(Notify::new()))
            .clone();
        Expected {
            arrivals: self,
            id,
            notify,
        }
    }

    /// The projection now knows order `id`: wakes whoever waits for it.
    pub fn arrived(&self, id: Uuid) {
        // Cheap when nobody waits, which is almost always: one lookup in an empty map.
        let waiting = self.lock().remove(&id);
        if let Some(notify) = waiting {
            notify.notify_waiters();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Arc<Notify>>> {
        // The map stays consistent whatever a panicking holder did: one insert or remove.
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }

    #[cfg(test)]
    fn waiting(&self) -> usize {
        self.lock().len()
    }
}

/// One registration; dropping it forgets the order unless someone else still waits for it.
pub struct Expected<'a> {
    arrivals: &'a OrderArrivals,
    id: Uuid,
    notify: Arc<Notify>,
}

impl Expected<'_> {
    /// Resolves on the order's arrival. Create it before looking at the projection: an arrival
    /// between the look and the wait is then not missed.
    pub fn notified(&self) -> Pin<Box<Notified<'_>>> {
        let mut notified = Box::pin(self.notify.notified());
        notified.as_mut().enable();
        notified
    }
}

impl Drop for Expected<'_> {
    fn drop(&mut self) {
        let mut waiting = self.arrivals.lock();
        // Two holders: the map and this registration, the last one waiting.
        if waiting
            .get(&self.id)
            .is_some_and(|n| Arc::ptr_eq(n, &self.notify) && Arc::strong_count(n) == 2)
        {
            waiting.remove(&self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn an_arrival_wakes_the_payment_waiting_for_that_order() {
        // Given a payment waiting for order A
        let arrivals = OrderArrivals::default();
        let id = Uuid::now_v7();
        let expected = arrivals.expect(id);
        let notified = expected.notified();
        // When order A arrives before the wait even started
        arrivals.arrived(id);
        // Then the wait ends at once
        tokio::time::timeout(Duration::from_secs(1), notified)
            .await
            .expect("woken");
    }

    #[tokio::test]
    async fn an_arrival_of_another_order_does_not_wake_it() {
        let arrivals = OrderArrivals::default();
        let expected = arrivals.expect(Uuid::now_v7());
        let notified = expected.notified();
        arrivals.arrived(Uuid::now_v7());
        assert!(
            tokio::time::timeout(Duration::from_millis(50), notified)
                .await
                .is_err()
        );
    }

    #[test]
    fn a_registration_is_forgotten_when_its_last_waiter_gives_up() {
        let arrivals = OrderArrivals::default();
        let id = Uuid::now_v7();
        let first = arrivals.expect(id);
        let second = arrivals.expect(id);
        drop(first);
        assert_eq!(arrivals.waiting(), 1, "the second payment still waits");
        drop(second);
        assert_eq!(arrivals.waiting(), 0);
    }
}
