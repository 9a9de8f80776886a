//! `Idempotency-Key`, as Stripe defines it: the first answer to a key is stored and replayed for
//! every retry with the same request; the same key with a different request is refused (422);
//! while the first request still runs, a retry is told so (409). Keys belong to the signed-in
//! user, so two users can never collide on one. This module holds what a key means here (the
//! stored answer, the claim while the first request runs); reading the header is the platform's.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// The key's rules (1 to 255 visible ASCII characters) are the platform's, shared by every
/// service.
pub use platform::idempotency::IdempotencyKey;

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
