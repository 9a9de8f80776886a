//! How a batch of outbox messages leaves as JetStream atomic batches.
//!
//! With `sync_interval: always` the server syncs its store before every acknowledgement, so one
//! message per acknowledgement caps a stream at a few thousand messages a second however many
//! are in flight. An atomic batch is stored, synced and acknowledged as a whole: all of it or
//! none of it. The relay still sends wave by wave (see [`super::waves`]); a wave's messages need
//! no order among themselves, so they leave grouped by the stream that stores them, at most
//! [`LIMIT`] to a batch.
//!
//! The server rejects a whole batch that holds a message id it already stored (a re-send after
//! a lost acknowledgement), and a stream without `allow_atomic` rejects every batch: the relay
//! then publishes that group one message at a time, where the stream's de-duplication
//! acknowledges the stored ones and stores the rest.

use async_nats::HeaderMap;

use super::OutboxMessage;

/// The most messages the server takes in one atomic batch.
pub const LIMIT: usize = 1000;

const BATCH_ID: &str = "Nats-Batch-Id";
const BATCH_SEQUENCE: &str = "Nats-Batch-Sequence";
const BATCH_COMMIT: &str = "Nats-Batch-Commit";

/// The positions `wave` of `batch` grouped by the stream that stores their message, each group
/// in wave order and of at most `limit` messages. A message no stream stores is a group of its
/// own (its publish fails alone).
pub fn groups(batch: &[OutboxMessage], wave: &[usize], limit: usize) -> Vec<Vec<usize>> {
    let mut open: Vec<(&str, Vec<usize>)> = Vec::new();
    let mut groups = Vec::new();
    for &i in wave {
        let Some(stream) = contracts::jetstream::stream_of(&batch[i].subject) else {
            groups.push(vec![i]);
            continue;
        };
        let group = match open.iter().position(|(s, _)| *s == stream) {
            Some(at) => &mut open[at].1,
            None => {
                open.push((stream, Vec::new()));
                &mut open.last_mut().expect("just pushed").1
            }
        };
        group.push(i);
        if group.len() == limit {
            groups.push(std::mem::take(group));
        }
    }
    groups.extend(
        open.into_iter()
            .map(|(_, group)| group)
            .filter(|group| !group.is_empty()),
    );
    groups
}

/// The headers every outbox message is published with: its id for the stream's de-duplication
/// and the trace context of the request that caused it.
pub fn headers(msg: &OutboxMessage) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(async_nats::header::NATS_MESSAGE_ID, msg.id.to_string());
    if let Some(tp) = &msg.traceparent {
        headers.insert(contracts::subjects::headers::TRACEPARENT, tp.as_str());
    }
    headers
}

/// The headers of the `sequence`-th message (from 1) of atomic batch `batch` of `len` messages;
/// the last one commits the batch.
pub fn batch_headers(msg: &OutboxMessage, batch: &str, sequence: usize, len: usize) -> HeaderMap {
    let mut headers = headers(msg);
    headers.insert(BATCH_ID, batch);
    headers.insert(BATCH_SEQUENCE, sequence.to_string());
    if sequence == len {
        headers.insert(BATCH_COMMIT, "1");
    }
    headers
}

#[cfg(test)]
mod tests {
    use contracts::Envelope;
    use serde_json::json;
    use uuid::Uuid;

    use super::*;

    fn on(subject: &str) -> OutboxMessage {
        let envelope = Envelope::new(subject, "test", Some("o-1".into()), json!({}));
        OutboxMessage::from_envelope(&envelope).unwrap()
    }

    #[test]
    fn a_wave_leaves_grouped_by_the_stream_that_stores_each_message() {
        // Given a wave of two orders created, a payment between them and a refund after
        let batch = [
            on("orders.created"),
            on("payments.completed"),
            on("orders.created"),
            on("payments.refunded"),
        ];
        // When it is grouped
        let groups = groups(&batch, &[0, 1, 2, 3], LIMIT);
        // Then each stream gets one batch, its messages in wave order
        assert_eq!(groups, [vec![0, 2], vec![1, 3]]);
    }

    #[test]
    fn a_group_never_holds_more_than_the_limit() {
        let batch: Vec<_> = (0..7).map(|_| on("orders.created")).collect();
        let wave: Vec<_> = (0..7).collect();
        assert_eq!(
            groups(&batch, &wave, 3),
            [vec![0, 1, 2], vec![3, 4, 5], vec![6]]
        );
    }

    #[test]
    fn a_message_no_stream_stores_is_a_group_of_its_own() {
        let batch = [on("nowhere.x"), on("orders.created"), on("nowhere.x")];
        assert_eq!(
            groups(&batch, &[0, 1, 2], LIMIT),
            [vec![0], vec![2], vec![1]]
        );
    }

    #[test]
    fn only_the_positions_of_the_wave_are_grouped() {
        let batch: Vec<_> = (0..4).map(|_| on("orders.created")).collect();
        assert_eq!(groups(&batch, &[1, 3], LIMIT), [vec![1, 3]]);
        assert!(groups(&batch, &[], LIMIT).is_empty());
    }

    #[test]
    fn only_the_last_message_of_a_batch_commits_it_and_every_message_keeps_its_id() {
        let msg = on("orders.created").with_traceparent(Some("00-abc-def-01".into()));
        let batch = Uuid::new_v4().simple().to_string();
        let middle = batch_headers(&msg, &batch, 2, 3);
        let last = batch_headers(&msg, &batch, 3, 3);
        assert_eq!(middle.get(BATCH_SEQUENCE).unwrap().as_str(), "2");
        assert!(middle.get(BATCH_COMMIT).is_none());
        assert_eq!(last.get(BATCH_COMMIT).unwrap().as_str(), "1");
        assert_eq!(last.get(BATCH_ID).unwrap().as_str(), batch);
        assert_eq!(
            last.get(async_nats::header::NATS_MESSAGE_ID)
                .unwrap()
                .as_str(),
            msg.id.to_string()
        );
        assert_eq!(
            last.get(contracts::subjects::headers::TRACEPARENT)
                .unwrap()
                .as_str(),
            "00-abc-def-01"
        );
    }
}
