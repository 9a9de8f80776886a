//! The payment store port and its adapters: SQLite (default) and MongoDB (`MONGODB_URI`).
//!
//! Correctness lives in the store operations themselves:
//! - at most one payment per order that is not `failed` (a unique partial index), so concurrent
//!   submissions can never charge an order twice;
//! - a payment's result, its outbox message, the `Idempotency-Key` answer and (if the order is
//!   already cancelled) its refund are written in one transaction;
//! - an order event, its effect on the projection, the refunds it causes and the processed
//!   event id are written in one transaction, so a redelivered event has no second effect.

mod mongo;
mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use platform::StoreError;
use platform::config::StoreConfig;
use platform::outbox::OutboxStore;
use uuid::Uuid;

pub use mongo::MongoStore;
pub use sqlite::SqliteStore;

use crate::domain::{OrderRecord, OrderStatus, Payment, PaymentStatus};
use crate::gateway::Charge;
use crate::idempotency::{ClaimOutcome, KeyClaim, KeyRef, StoredResponse};
use crate::ledger::{self, Settlement};
use crate::view;

/// An `orders.*` fact to fold into the projection.
#[derive(Debug, Clone)]
pub struct OrderFact {
    /// The envelope id: applied at most once.
    pub event_id: Uuid,
    pub subject: String,
    /// What the fact says about the order.
    pub order: OrderRecord,
    pub at: DateTime<Utc>,
    /// Carried onto the `payments.refunded` the fact may cause.
    pub traceparent: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FactApplied {
    /// The projection took the fact; these payments were refunded because of it.
    Applied { refunded: Vec<Payment> },
    /// This event id was applied before; nothing changed.
    Duplicate,
}

/// The result of the conditional insert of a new payment.
#[derive(Debug, Clone, PartialEq)]
pub enum Inserted {
    Inserted,
    /// The order already has this payment that is not `failed` (in flight, completed or
    /// refunded); nothing was written.
    OrderHeld(Box<Payment>),
}

/// The gateway's decision on a `processing` payment, to store.
#[derive(Debug, Clone)]
pub struct Settle {
    pub payment_id: Uuid,
    pub charge: Charge,
    pub at: DateTime<Utc>,
    pub traceparent: String,
    /// The key whose answer this is, if the request had one.
    pub key: Option<KeyRef>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Settled {
    /// The payment as stored now.
    pub payment: Payment,
    /// The order's status in the projection at that moment.
    pub order_status: Option<OrderStatus>,
    /// The stored `Idempotency-Key` answer, when there was a key and the payment was settled
    /// by this call.
    pub response: Option<StoredResponse>,
}

/// What a [`Settle`] comes to, decided before anything is written: the adapters store `write`
/// (only while the payment is still in status `from`) with the key's answer, then give `settled`.
pub struct SettlePlan {
    pub from: PaymentStatus,
    /// `None` when the payment is no longer processing: nothing changes then.
    pub write: Option<Settlement>,
    pub settled: Settled,
}

impl Settle {
    /// Decides the settlement of `payment`, whose order the projection knows as `order`.
    pub fn plan(
        &self,
        payment: Payment,
        order: Option<&OrderRecord>,
    ) -> Result<SettlePlan, StoreError> {
        let order_status = order.map(|o| o.status);
        let from = payment.status;
        let Some(done) = ledger::settle(
            payment.clone(),
            order,
            &self.charge,
            self.at,
            &self.traceparent,
        )?
        else {
            let settled = Settled {
                payment,
                order_status,
                response: None,
            };
            return Ok(SettlePlan {
                from,
                write: None,
                settled,
            });
        };
        // The key's answer is stored in the same transaction, so a retry replays it.
        let response = self
            .key
            .as_ref()
            .map(|_| view::receipt(&done.payment, order_status));
        let settled = Settled {
            payment: done.payment.clone(),
            order_status,
            response,
        };
        Ok(SettlePlan {
            from,
            write: Some(done),
            settled,
        })
    }
}

/// A key claimed before, as the store holds it.
#[derive(Debug, Clone)]
pub struct HeldKey {
    pub fingerprint: String,
    pub claimed_at: DateTime<Utc>,
    /// The first answer, once there is one.
    pub response: Option<StoredResponse>,
}

/// What a claim on a key held before comes to: an outcome at once, or a take-over of a claim left
/// unanswered too long (its process died), which the store writes guarded by that staleness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnHeldKey {
    Outcome(ClaimOutcome),
    TakeOver,
}

impl KeyClaim {
    /// The rule for a key held before: another request's key is refused, an answered one
    /// replayed, a stale claim taken over; otherwise the first request is still running.
    pub fn on_held(&self, held: HeldKey) -> OnHeldKey {
        if held.fingerprint != self.fingerprint {
            return OnHeldKey::Outcome(ClaimOutcome::Mismatch);
        }
        match held.response {
            Some(answer) => OnHeldKey::Outcome(ClaimOutcome::Replay(answer)),
            None if held.claimed_at < self.stale_before => OnHeldKey::TakeOver,
            None => OnHeldKey::Outcome(ClaimOutcome::InProgress),
        }
    }
}

#[async_trait]
pub trait PaymentStore: Send + Sync + 'static {
    // -- the order projection --
    async fn order(&self, id: Uuid) -> Result<Option<OrderRecord>, StoreError>;
    /// Merges an order learned from the ticket service over HTTP; returns the merged record.
    async fn remember_order(&self, order: &OrderRecord) -> Result<OrderRecord, StoreError>;
    /// Applies an `orders.*` fact once: merge, refunds, outbox, processed id, atomically.
    async fn apply_order_fact(&self, fact: &OrderFact) -> Result<FactApplied, StoreError>;

    // -- payments --
    /// Inserts a new `pending` payment unless its order is already held by another one.
    async fn insert_payment(&self, payment: &Payment) -> Result<Inserted, StoreError>;
    /// `pending -> processing`; `None` when the payment is not pending any more.
    async fn begin_processing(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<Option<Payment>, StoreError>;
    /// Stores the gateway's decision (see [`crate::ledger::settle`]).
    async fn settle(&self, settle: &Settle) -> Result<Settled, StoreError>;
    async fn payment(&self, id: Uuid) -> Result<Option<Payment>, StoreError>;
    /// Oldest first.
    async fn payments_for_order(&self, order_id: Uuid) -> Result<Vec<Payment>, StoreError>;
    /// Fails payments left `pending`/`processing` since before `before` (see
    /// [`crate::ledger::abandon`]); returns how many.
    async fn abandon_stale(
        &self,
        before: DateTime<Utc>,
        at: DateTime<Utc>,
        traceparent: &str,
    ) -> Result<u64, StoreError>;

    // -- idempotency keys --
    async fn claim_key(&self, claim: &KeyClaim) -> Result<ClaimOutcome, StoreError>;
    /// Stores the answer of a claimed key.
    async fn answer_key(&self, key: &KeyRef, response: &StoredResponse) -> Result<(), StoreError>;
    /// Gives a claimed key up unanswered (the request failed in a way worth retrying).
    async fn release_key(&self, key: &KeyRef) -> Result<(), StoreError>;
    /// Deletes keys created before `before`; returns how many.
    async fn purge_keys(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;

    async fn ping(&self) -> Result<(), StoreError>;
    /// The outbox written by this store, for the relay.
    fn outbox(&self) -> Arc<dyn OutboxStore>;
}

/// Opens the store the configuration names.
pub async fn open(config: &StoreConfig) -> anyhow::Result<Arc<dyn PaymentStore>> {
    Ok(match config {
        StoreConfig::Sqlite { path } => Arc::new(SqliteStore::open(path)?),
        StoreConfig::Mongo { uri, database } => Arc::new(MongoStore::connect(uri, database).await?),
    })
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn claim(fingerprint: &str) -> KeyClaim {
        let at = platform::time::now();
        KeyClaim {
            user_id: Uuid::now_v7(),
            key: "k".into(),
            fingerprint: fingerprint.into(),
            at,
            stale_before: at - Duration::minutes(1),
        }
    }

    fn held(claimed_ago: Duration, response: Option<StoredResponse>) -> HeldKey {
        HeldKey {
            fingerprint: "same".into(),
            claimed_at: platform::time::now() - claimed_ago,
            response,
        }
    }

    fn answered() -> StoredResponse {
        StoredResponse {
            status: 201,
            body: "{}".into(),
        }
    }

    #[test]
    fn a_key_held_for_another_request_is_refused_even_once_answered() {
        assert_eq!(
            claim("other").on_held(held(Duration::hours(1), Some(answered()))),
            OnHeldKey::Outcome(ClaimOutcome::Mismatch)
        );
    }

    #[test]
    fn an_answered_key_is_replayed_however_old_its_claim() {
        assert_eq!(
            claim("same").on_held(held(Duration::hours(1), Some(answered()))),
            OnHeldKey::Outcome(ClaimOutcome::Replay(answered()))
        );
    }

    #[test]
    fn an_unanswered_claim_is_taken_over_only_once_stale() {
        assert_eq!(
            claim("same").on_held(held(Duration::hours(1), None)),
            OnHeldKey::TakeOver
        );
        assert_eq!(
            claim("same").on_held(held(Duration::seconds(1), None)),
            OnHeldKey::Outcome(ClaimOutcome::InProgress)
        );
    }
}
