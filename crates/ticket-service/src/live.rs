//! Live availability: server-sent events that follow the order and catalogue streams. Every
//! replica listens to `orders.>` and `catalog.events.>` on the broker (a plain, ephemeral
//! subscription), so a browser connected to any replica sees seats change wherever they were
//! booked.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use api_types::orders::Availability;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::{Stream, StreamExt};
use platform::metrics::{gauge, names};
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::store::TicketStore;
use crate::view;

/// Ids of events whose stock may have changed.
pub type Changes = broadcast::Sender<Uuid>;

pub fn channel() -> Changes {
    broadcast::channel(1024).0
}

/// Sent on [`Changes`] when the broker is followed again: every open stream reads its event
/// anew, for the facts that came while nobody listened.
pub const EVERY_EVENT: Uuid = Uuid::nil();

/// How often a replica nobody watches looks for a first watcher.
const LOOK_EVERY: Duration = Duration::from_millis(200);
/// How long the broker is still followed after the last watcher left.
const LINGER: Duration = Duration::from_secs(10);

/// Forwards the event id of every order and catalogue fact on the broker to `changes`, while
/// anyone watches: a replica without viewers does not take every fact off the broker.
pub async fn follow_broker(nats: async_nats::Client, changes: Changes) {
    loop {
        while changes.receiver_count() == 0 {
            tokio::time::sleep(LOOK_EVERY).await;
        }
        let subs = futures::future::try_join(
            nats.subscribe("orders.>"),
            nats.subscribe("catalog.events.>"),
        )
        .await;
        let (orders, catalog) = match subs {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot follow the broker for live availability, retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        // A watcher may have read its first answer before the subscriptions above existed.
        let _ = changes.send(EVERY_EVENT);
        let mut both = futures::stream::select(orders, catalog);
        let mut last_watched = tokio::time::Instant::now();
        loop {
            let msg = match tokio::time::timeout(LINGER, both.next()).await {
                Ok(Some(msg)) => Some(msg),
                Ok(None) => break,
                Err(_) => None,
            };
            if changes.receiver_count() == 0 {
                if last_watched.elapsed() >= LINGER {
                    // Dropping the subscriptions unsubscribes.
                    break;
                }
                continue;
            }
            last_watched = tokio::time::Instant::now();
            if let Some(id) = msg.and_then(|m| event_id_of(&m.payload)) {
                let _ = changes.send(id);
            }
        }
    }
}

/// The `data.eventId` of a fact's envelope; the rest of it is skipped, not built.
fn event_id_of(payload: &[u8]) -> Option<Uuid> {
    #[derive(serde::Deserialize)]
    struct Envelope {
        data: Data,
    }
    #[derive(serde::Deserialize)]
    struct Data {
        #[serde(rename = "eventId")]
        event_id: Uuid,
    }
    let envelope: Envelope = serde_json::from_slice(payload).ok()?;
    Some(envelope.data.event_id)
}

/// The availability JSON now, then again after every change of this event; `rx` is subscribed
/// to the [`Changes`] before `first` was read, so no change falls between the two.
pub fn stream(
    store: Arc<dyn TicketStore>,
    rx: broadcast::Receiver<Uuid>,
    event_id: Uuid,
    first: Availability,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let open = OpenStream::new();
    let events = futures::stream::unfold(
        (Some(first), rx, store, open),
        move |(first, mut rx, store, open)| async move {
            if let Some(a) = first {
                return Some((Ok(event(&a)), (None, rx, store, open)));
            }
            loop {
                match rx.recv().await {
                    Ok(id) if id != event_id && id != EVERY_EVENT => continue,
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {
                        // Coalesce a burst of bookings into one update.
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        while rx.try_recv().is_ok() {}
                        match store.event_stock(event_id).await {
                            Ok(Some(stock)) => {
                                let data = event(&view::availability(&stock));
                                return Some((Ok(data), (None, rx, store, open)));
                            }
                            Ok(None) => return None,
                            Err(e) => {
                                tracing::warn!(error = %platform::error::ErrorChain(&e), "live availability read failed");
                                continue;
                            }
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        },
    );
    Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

/// Counts an open stream for as long as it lives: the stream, and this with it, is dropped when
/// the client goes away.
pub(crate) struct OpenStream;

impl OpenStream {
    pub(crate) fn new() -> Self {
        gauge!(names::SSE_CONNECTIONS).increment(1.0);
        Self
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        gauge!(names::SSE_CONNECTIONS).decrement(1.0);
    }
}

/// One server-sent event whose `data` is the availability JSON.
fn event(availability: &Availability) -> Event {
    let json = serde_json::to_string(availability).expect("strings and numbers always serialize");
    Event::default().data(json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_event_id_is_read_from_any_fact_that_carries_one() {
        let id = Uuid::new_v4();
        let payload =
            serde_json::json!({"type": "orders.created", "data": {"eventId": id}}).to_string();
        assert_eq!(event_id_of(payload.as_bytes()), Some(id));
        assert_eq!(event_id_of(b"{}"), None);
        assert_eq!(event_id_of(b"garbage"), None);
    }
}
