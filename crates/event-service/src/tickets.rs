//! The ticket service, asked one thing: how many paid orders of an event its cancellation will
//! refund (`GET /api/tickets/events/:id/summary`, as the caller: their session cookie is
//! forwarded, so the ticket service applies its own rule of who may see an event's orders).
//! The answer is a courtesy to the organizer, never a condition: when the ticket service is
//! down, slow or refuses, the count is unknown and the cancellation goes ahead.

use std::time::Duration;

use api_types::back_office::EventSummary;
use platform::peer::PeerClient;
use reqwest::StatusCode;
use uuid::Uuid;

#[derive(Clone)]
pub struct TicketClient(PeerClient);

impl TicketClient {
    /// `timeout` bounds the whole question, connecting included.
    pub fn new(base_url: &str, timeout: Duration) -> Self {
        Self(PeerClient::new(base_url, timeout))
    }

    /// How many of the event's orders are confirmed (paid), as the ticket service shows them to
    /// the caller of `cookie`; `None` when it cannot say.
    pub async fn confirmed_orders(
        &self,
        event: Uuid,
        cookie: Option<&str>,
        traceparent: &str,
    ) -> Option<u64> {
        let request = self
            .0
            .get_as(&format!("/api/tickets/events/{event}/summary"), cookie)
            .header(contracts::subjects::headers::TRACEPARENT, traceparent);
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(event_id = %event, error = %e, "ticket service did not answer the order count");
                return None;
            }
        };
        if response.status() != StatusCode::OK {
            tracing::warn!(event_id = %event, status = %response.status(), "ticket service refused the order count");
            return None;
        }
        match response.json::<EventSummary>().await {
            Ok(summary) => Some(summary.orders_by_status.confirmed),
            Err(e) => {
                tracing::warn!(event_id = %event, error = %e, "ticket service sent an unreadable summary");
                None
            }
        }
    }
}
