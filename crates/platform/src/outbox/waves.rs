//! In which order a batch of outbox messages may leave with many acknowledgements in flight.
//!
//! Messages about one aggregate (the envelope's `subject`: an order, an event) must reach the
//! stream in the order they were written: an `orders.cancelled` stored before its
//! `orders.created` would mislead every consumer. Messages about different aggregates need no
//! order between them. So a batch is cut into waves: a message's wave is the number of earlier
//! messages of its aggregate in the batch, every message of a wave is in flight at once, and a
//! wave leaves only when the previous one is acknowledged. After a failed publish the relay sends
//! no further wave, so no later message of the failed aggregate can overtake it.

use std::borrow::Cow;
use std::collections::HashMap;

use super::OutboxMessage;

/// The aggregate `msg` is about: its envelope's `subject`, else its NATS subject (all messages
/// on one subject without an entity keep their order among themselves).
pub fn aggregate(msg: &OutboxMessage) -> Cow<'_, str> {
    contracts::envelope::aggregate_of(&msg.payload, &msg.subject)
}

/// The positions of `keys` grouped into waves, in batch order within each wave; wave `n` holds
/// the `n`-th message of every aggregate that has one.
pub fn waves<K: AsRef<str>>(keys: &[K]) -> Vec<Vec<usize>> {
    let mut seen: HashMap<&str, usize> = HashMap::with_capacity(keys.len());
    let mut waves: Vec<Vec<usize>> = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let earlier = seen.entry(key.as_ref()).or_insert(0);
        let wave = *earlier;
        *earlier += 1;
        if waves.len() <= wave {
            waves.push(Vec::new());
        }
        waves[wave].push(i);
    }
    waves
}

#[cfg(test)]
mod tests {
    use contracts::Envelope;
    use serde_json::json;

    use super::*;

    #[test]
    fn messages_about_different_aggregates_all_leave_in_one_wave() {
        // Given a batch of three bookings of three orders
        let keys = ["order-1", "order-2", "order-3"];
        // When it is cut into waves
        let waves = waves(&keys);
        // Then all three are in flight together
        assert_eq!(waves, vec![vec![0, 1, 2]]);
    }

    #[test]
    fn a_later_message_of_an_aggregate_waits_for_the_wave_after_its_predecessor() {
        // Given an order created, another order created, the first cancelled, then confirmed
        let keys = ["order-1", "order-2", "order-1", "order-1", "order-3"];
        // When the batch is cut into waves
        let waves = waves(&keys);
        // Then each message of order-1 leaves one wave after the previous one
        assert_eq!(waves, vec![vec![0, 1, 4], vec![2], vec![3]]);
    }

    #[test]
    fn an_empty_batch_has_no_wave() {
        assert!(waves::<&str>(&[]).is_empty());
    }

    #[test]
    fn the_aggregate_is_the_envelope_subject_or_else_the_nats_subject() {
        // Given a fact about an order and one about no particular entity
        let about_order = Envelope::new("orders.created", "t", Some("o-1".into()), json!({}));
        let about_nothing = Envelope::new("catalog.x", "t", None, json!({}));
        let about_order = OutboxMessage::from_envelope(&about_order).unwrap();
        let about_nothing = OutboxMessage::from_envelope(&about_nothing).unwrap();
        // Then the first is keyed by its order and the second by its subject
        assert_eq!(aggregate(&about_order), "o-1");
        assert_eq!(aggregate(&about_nothing), "catalog.x");
    }
}
