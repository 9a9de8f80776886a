//! `Idempotency-Key`, as Stripe defines it: the first answer to a key is stored and replayed for
//! every retry with the same request; the same key with a different request is refused (422);
//! while the first request still runs, a retry is told so (409). Keys belong to the signed-in
//! user, so two users can never collide on one.

use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use uuid::Uuid;

pub const HEADER: &str = "idempotency-key";
/// Set on replayed answers, as Stripe does.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

/// A key as sent: 1 to 255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// `Ok(None)` when the header is absent.
    pub fn from_headers(headers: &HeaderMap) -> Result<Option<Self>, &'static str> {
        let Some(value) = headers.get(HEADER) else {
            return Ok(None);
        };
        let key = value
            .to_str()
            .map_err(|_| "The Idempotency-Key must be visible ASCII characters.")?
            .trim();
        if key.is_empty() || key.len() > 255 {
            return Err("The Idempotency-Key must be 1 to 255 characters.");
        }
        if !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("The Idempotency-Key must be visible ASCII characters.");
        }
        Ok(Some(IdempotencyKey(key.to_string())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The first answer to a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    /// The JSON body, byte for byte.
    pub body: String,
}

/// A request's claim on a key.
#[derive(Debug, Clone)]
pub struct KeyClaim {
    pub user_id: Uuid,
    pub key: String,
    /// [`crate::input::PaymentRequest::fingerprint`].
    pub fingerprint: String,
    pub at: DateTime<Utc>,
    /// A claim left unanswered since before this (its process died) may be taken over.
    pub stale_before: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// This request owns the key now and must answer it.
    Claimed,
    /// The key was answered before; replay this.
    Replay(StoredResponse),
    /// The key was used for a different request.
    Mismatch,
    /// The first request with this key is still running.
    InProgress,
}

/// Which key a settled payment answers, so its answer is stored in the same transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRef {
    pub user_id: Uuid,
    pub key: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(HEADER, value.parse().unwrap());
        h
    }

    #[test]
    fn a_key_is_one_to_255_visible_ascii_characters() {
        assert_eq!(IdempotencyKey::from_headers(&HeaderMap::new()), Ok(None));
        assert_eq!(
            IdempotencyKey::from_headers(&headers(" abc-123 "))
                .unwrap()
                .unwrap()
                .as_str(),
            "abc-123"
        );
        assert!(IdempotencyKey::from_headers(&headers(&"k".repeat(256))).is_err());
        assert!(IdempotencyKey::from_headers(&headers("a b")).is_err());
        assert!(IdempotencyKey::from_headers(&headers("  ")).is_err());
    }
}
