//! `payment_db`: `payments` (the seed's model), `orders` (the projection), `idempotency_keys`,
//! `processed_events` and `outbox`. Multi-document transactions need MongoDB running as a replica
//! set (a single node is enough: `mongod --replSet rs0` + `rs.initiate()`).
//!
//! Race safety:
//! - `payments.holdsOrder` is the order id while a payment is not `failed` (absent otherwise),
//!   under a unique partial index: the second concurrent payment of an order fails to insert.
//! - settling a payment and applying an order fact both *write* the order's projection document
//!   inside their transactions, so the two can never run on stale snapshots of each other (one
//!   gets a write conflict and is retried): a payment cannot complete unseen by a cancellation,
//!   nor a cancellation miss a completed payment.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use contracts::orders::CancelReason;
use mongodb::bson::{self, Document, doc};
use mongodb::options::ReturnDocument;
use mongodb::{ClientSession, Collection};
use platform::StoreError;
use platform::mongo::{
    KeyOwner, ProcessedFacts, Schema, ServiceDb, TxResult, decode_all, find_sorted, from_bson_time,
    index, money, parse_uuid, to_bson_time, unique_where,
};
use platform::outbox::OutboxStore;
use platform::store::is_duplicate_key;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use uuid::Uuid;

use super::{FactApplied, HeldKey, Inserted, OnHeldKey, OrderFact, PaymentStore, Settle, Settled};
use crate::card::CardBrand;
use crate::domain::{
    GatewayResponse, Lifecycle, OrderRecord, OrderSource, OrderStatus, Payment, PaymentDetails,
    PaymentMethod, PaymentStatus, Refund,
};
use crate::idempotency::{ClaimOutcome, KeyClaim, KeyRef, StoredResponse};
use crate::ledger;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GatewayResponseDoc {
    transaction_id: String,
    response_code: String,
    response_message: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DetailsDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    card_last4: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    card_brand: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    paypal_email: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RefundDoc {
    transaction_id: String,
    reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    order_cancel_reason: Option<String>,
    refunded_at: bson::DateTime,
}

/// The seed's payment document. `amountMinor` (integer cents) is authoritative; `amount` is the
/// same value as a decimal string for people reading the collection.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PaymentDoc {
    #[serde(rename = "_id")]
    id: String,
    order_id: String,
    user_id: String,
    amount: String,
    amount_minor: i64,
    currency: String,
    payment_method: String,
    status: String,
    #[serde(default)]
    gateway_response: Option<GatewayResponseDoc>,
    payment_details: DetailsDoc,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refund: Option<RefundDoc>,
    /// The order id while this payment holds its order (see the module comment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    holds_order: Option<String>,
    created_at: bson::DateTime,
    updated_at: bson::DateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderDoc {
    #[serde(rename = "_id")]
    id: String,
    user_id: String,
    #[serde(default)]
    event_id: Option<String>,
    #[serde(default)]
    booking_reference: Option<String>,
    #[serde(default)]
    amount_minor: Option<i64>,
    #[serde(default)]
    currency: Option<String>,
    status: String,
    #[serde(default)]
    cancel_reason: Option<String>,
    #[serde(default)]
    expires_at: Option<bson::DateTime>,
    source: String,
    updated_at: bson::DateTime,
    /// Bumped by every transaction that reads the order to decide on a payment.
    #[serde(default)]
    rev: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResponseDoc {
    status: i32,
    body: String,
}

/// A claimed key, with the answer once there is one.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyDoc {
    #[serde(flatten)]
    owner: KeyOwner,
    fingerprint: String,
    claimed_at: bson::DateTime,
    #[serde(default)]
    response: Option<ResponseDoc>,
    created_at: bson::DateTime,
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::corrupt(format!("payment_db: {what}"))
}

impl PaymentDoc {
    fn from_payment(p: &Payment) -> Self {
        let payment_details = match &p.details {
            PaymentDetails::Card { last4, brand } => DetailsDoc {
                card_last4: Some(last4.clone()),
                card_brand: Some(brand.as_str().to_string()),
                paypal_email: None,
            },
            PaymentDetails::Paypal { email } => DetailsDoc {
                card_last4: None,
                card_brand: None,
                paypal_email: Some(email.clone()),
            },
        };
        Self {
            id: p.id.to_string(),
            order_id: p.order_id.to_string(),
            user_id: p.user_id.to_string(),
            amount: p.amount.decimal(),
            amount_minor: p.amount.minor_units(),
            currency: p.amount.currency().to_string(),
            payment_method: p.method.as_str().to_string(),
            status: p.status.as_str().to_string(),
            gateway_response: p.gateway_response.as_ref().map(|g| GatewayResponseDoc {
                transaction_id: g.transaction_id.clone(),
                response_code: g.response_code.clone(),
                response_message: g.response_message.clone(),
            }),
            payment_details,
            refund: p.refund.as_ref().map(|r| RefundDoc {
                transaction_id: r.transaction_id.clone(),
                reason: r.reason.clone(),
                order_cancel_reason: r.order_cancel_reason.map(|c| c.as_str().to_string()),
                refunded_at: to_bson_time(r.refunded_at),
            }),
            holds_order: p.status.holds_order().then(|| p.order_id.to_string()),
            created_at: to_bson_time(p.created_at),
            updated_at: to_bson_time(p.updated_at),
        }
    }

    fn into_payment(self) -> Result<Payment, StoreError> {
        let method = PaymentMethod::parse(&self.payment_method)
            .ok_or_else(|| corrupt(format!("payment method {:?}", self.payment_method)))?;
        let details = if method.is_card() {
            PaymentDetails::Card {
                last4: self.payment_details.card_last4.unwrap_or_default(),
                brand: CardBrand::parse(&self.payment_details.card_brand.unwrap_or_default()),
            }
        } else {
            PaymentDetails::Paypal {
                email: self.payment_details.paypal_email.unwrap_or_default(),
            }
        };
        Ok(Payment {
            id: parse_uuid(&self.id)?,
            order_id: parse_uuid(&self.order_id)?,
            user_id: parse_uuid(&self.user_id)?,
            amount: money(self.amount_minor, &self.currency)?,
            method,
            status: PaymentStatus::parse(&self.status)
                .ok_or_else(|| corrupt(format!("payment status {:?}", self.status)))?,
            details,
            gateway_response: self.gateway_response.map(|g| GatewayResponse {
                transaction_id: g.transaction_id,
                response_code: g.response_code,
                response_message: g.response_message,
            }),
            refund: self.refund.map(|r| Refund {
                transaction_id: r.transaction_id,
                reason: r.reason,
                order_cancel_reason: r.order_cancel_reason.and_then(|c| CancelReason::parse(&c)),
                refunded_at: from_bson_time(r.refunded_at),
            }),
            created_at: from_bson_time(self.created_at),
            updated_at: from_bson_time(self.updated_at),
        })
    }
}

impl OrderDoc {
    fn from_order(o: &OrderRecord, rev: i64) -> Self {
        Self {
            id: o.id.to_string(),
            user_id: o.user_id.to_string(),
            event_id: o.event_id.map(|e| e.to_string()),
            booking_reference: o.booking_reference.clone(),
            amount_minor: o.amount.map(|m| m.minor_units()),
            currency: o.amount.map(|m| m.currency().to_string()),
            status: o.status.as_str().to_string(),
            cancel_reason: o.cancel_reason.map(|c| c.as_str().to_string()),
            expires_at: o.expires_at.map(to_bson_time),
            source: o.source.as_str().to_string(),
            updated_at: to_bson_time(o.updated_at),
            rev,
        }
    }

    fn into_order(self) -> Result<OrderRecord, StoreError> {
        let amount = match (self.amount_minor, self.currency) {
            (Some(minor), Some(c)) => Some(money(minor, &c)?),
            _ => None,
        };
        Ok(OrderRecord {
            id: parse_uuid(&self.id)?,
            user_id: parse_uuid(&self.user_id)?,
            event_id: self.event_id.as_deref().map(parse_uuid).transpose()?,
            booking_reference: self.booking_reference,
            amount,
            status: OrderStatus::parse(&self.status)
                .ok_or_else(|| corrupt(format!("order status {:?}", self.status)))?,
            cancel_reason: self.cancel_reason.and_then(|c| CancelReason::parse(&c)),
            expires_at: self.expires_at.map(from_bson_time),
            source: OrderSource::parse(&self.source),
            updated_at: from_bson_time(self.updated_at),
        })
    }
}

pub struct MongoStore {
    db: ServiceDb,
    payments: Collection<PaymentDoc>,
    orders: Collection<OrderDoc>,
    keys: Collection<KeyDoc>,
    processed: ProcessedFacts,
}

/// The one holder per order (see the module comment), the payment queries, and the outbox.
fn schema() -> Schema {
    Schema {
        indexes: vec![
            (
                "payments",
                vec![
                    unique_where(
                        doc! {"holdsOrder": 1},
                        "one_holder_per_order",
                        doc! {"holdsOrder": {"$type": "string"}},
                    ),
                    index(doc! {"orderId": 1, "createdAt": 1}, "by_order"),
                    index(doc! {"userId": 1, "createdAt": -1}, "by_user"),
                    index(doc! {"status": 1, "updatedAt": 1}, "by_status"),
                ],
            ),
            // Behind `purge_keys`, which deletes keys older than the configured TTL.
            (
                "idempotency_keys",
                vec![index(doc! {"createdAt": 1}, "by_created")],
            ),
        ],
        outbox: true,
        ..Schema::default()
    }
}

impl MongoStore {
    /// Connects and makes sure the indexes exist.
    pub async fn connect(uri: &str, database: &str) -> Result<Self, StoreError> {
        let db = ServiceDb::open(uri, database, schema()).await?;
        Ok(Self {
            payments: db.collection("payments"),
            orders: db.collection("orders"),
            keys: db.collection("idempotency_keys"),
            processed: ProcessedFacts::new(&db, "processed_events"),
            db,
        })
    }

    async fn payments_in(
        &self,
        session: &mut ClientSession,
        filter: Document,
    ) -> TxResult<Vec<Payment>> {
        let mut cursor = self
            .payments
            .find(filter)
            .sort(doc! {"createdAt": 1, "_id": 1})
            .session(&mut *session)
            .await?;
        let mut out = Vec::new();
        while let Some(d) = cursor.next(&mut *session).await.transpose()? {
            out.push(d.into_payment()?);
        }
        Ok(out)
    }

    async fn order_in(
        &self,
        session: &mut ClientSession,
        id: Uuid,
    ) -> TxResult<Option<(OrderRecord, i64)>> {
        match self
            .orders
            .find_one(doc! {"_id": id.to_string()})
            .session(&mut *session)
            .await?
        {
            Some(d) => {
                let rev = d.rev;
                Ok(Some((d.into_order()?, rev)))
            }
            None => Ok(None),
        }
    }

    async fn merge_order_in(
        &self,
        session: &mut ClientSession,
        incoming: &OrderRecord,
    ) -> TxResult<OrderRecord> {
        let current = self.order_in(&mut *session, incoming.id).await?;
        let rev = current.as_ref().map_or(0, |(_, r)| *r) + 1;
        let merged = OrderRecord::merge(current.map(|(o, _)| o), incoming.clone());
        self.orders
            .replace_one(
                doc! {"_id": merged.id.to_string()},
                OrderDoc::from_order(&merged, rev),
            )
            .upsert(true)
            .session(&mut *session)
            .await?;
        Ok(merged)
    }

    /// Replaces a payment only if it is still in status `from`.
    async fn replace_payment_in(
        &self,
        session: &mut ClientSession,
        p: &Payment,
        from: PaymentStatus,
    ) -> TxResult<bool> {
        let result = self
            .payments
            .replace_one(
                doc! {"_id": p.id.to_string(), "status": from.as_str()},
                PaymentDoc::from_payment(p),
            )
            .session(&mut *session)
            .await?;
        Ok(result.matched_count == 1)
    }

    async fn holder_of(&self, order_id: Uuid) -> Result<Option<Payment>, StoreError> {
        match self
            .payments
            .find_one(doc! {"holdsOrder": order_id.to_string()})
            .await?
        {
            Some(d) => Ok(Some(d.into_payment()?)),
            None => Ok(None),
        }
    }
}

fn response_doc(r: &StoredResponse) -> Document {
    doc! {"status": i32::from(r.status), "body": r.body.clone()}
}

#[async_trait]
impl PaymentStore for MongoStore {
    async fn order(&self, id: Uuid) -> Result<Option<OrderRecord>, StoreError> {
        match self.orders.find_one(doc! {"_id": id.to_string()}).await? {
            Some(d) => Ok(Some(d.into_order()?)),
            None => Ok(None),
        }
    }

    async fn remember_order(&self, order: &OrderRecord) -> Result<OrderRecord, StoreError> {
        self.db
            .tx()
            .run_with(self, order, |store, session, order| {
                Box::pin(store.merge_order_in(session, order))
            })
            .await
    }

    async fn apply_order_fact(&self, fact: &OrderFact) -> Result<FactApplied, StoreError> {
        self.db.tx().run_with(self, fact, |store, session, fact| {
            Box::pin(async move {
                let id = fact.event_id.to_string();
                if !store
                    .processed
                    .first_time(&mut *session, &id, &fact.subject, fact.at)
                    .await?
                {
                    return Ok(FactApplied::Duplicate);
                }
                let merged = store.merge_order_in(&mut *session, &fact.order).await?;
                let completed = store
                    .payments_in(
                        &mut *session,
                        doc! {"orderId": merged.id.to_string(), "status": PaymentStatus::Completed.as_str()},
                    )
                    .await?;
                let (refunded, facts) =
                    ledger::refunds_for(&merged, completed, fact.at, &fact.traceparent)?;
                for p in &refunded {
                    store
                        .replace_payment_in(&mut *session, p, PaymentStatus::Completed)
                        .await?;
                }
                store.db.insert_facts(&mut *session, &facts).await?;
                Ok(FactApplied::Applied { refunded })
            })
        })
        .await
    }

    async fn insert_payment(&self, payment: &Payment) -> Result<Inserted, StoreError> {
        // A holder can fail between our refused insert and the read of it, which frees the
        // order: then the insert is simply tried again.
        for _ in 0..3 {
            match self
                .payments
                .insert_one(PaymentDoc::from_payment(payment))
                .await
            {
                Ok(_) => return Ok(Inserted::Inserted),
                Err(e) if is_duplicate_key(&e) => {
                    if let Some(holder) = self.holder_of(payment.order_id).await? {
                        return Ok(Inserted::OrderHeld(Box::new(holder)));
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Duplicate(format!(
            "order {} is contended",
            payment.order_id
        )))
    }

    async fn begin_processing(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<Option<Payment>, StoreError> {
        let Some(mut p) = self.payment(id).await? else {
            return Ok(None);
        };
        if p.begin_processing(at).is_err() {
            return Ok(None);
        }
        let result = self
            .payments
            .replace_one(
                doc! {"_id": id.to_string(), "status": PaymentStatus::Pending.as_str()},
                PaymentDoc::from_payment(&p),
            )
            .await?;
        Ok((result.matched_count == 1).then_some(p))
    }

    async fn settle(&self, settle: &Settle) -> Result<Settled, StoreError> {
        self.db
            .tx()
            .run_with(self, settle, |store, session, s| {
                Box::pin(async move {
                    let payment = store
                        .payments
                        .find_one(doc! {"_id": s.payment_id.to_string()})
                        .session(&mut *session)
                        .await?
                        .ok_or_else(|| corrupt(format!("no payment {}", s.payment_id)))?
                        .into_payment()?;
                    // Reading the order through a write makes a concurrent cancellation conflict.
                    let order = store
                        .orders
                        .find_one_and_update(
                            doc! {"_id": payment.order_id.to_string()},
                            doc! {"$inc": {"rev": 1}},
                        )
                        .return_document(ReturnDocument::After)
                        .session(&mut *session)
                        .await?
                        .map(OrderDoc::into_order)
                        .transpose()?;
                    let plan = s.plan(payment, order.as_ref())?;
                    let Some(done) = &plan.write else {
                        return Ok(plan.settled);
                    };
                    if !store
                        .replace_payment_in(&mut *session, &done.payment, plan.from)
                        .await?
                    {
                        return Err(corrupt("payment changed inside a transaction").into());
                    }
                    store.db.insert_facts(&mut *session, &done.facts).await?;
                    if let (Some(key), Some(response)) = (&s.key, &plan.settled.response) {
                        store
                            .keys
                            .update_one(
                                doc! {"_id": KeyOwner::id(key.user_id, &key.key)},
                                doc! {"$set": {"response": response_doc(response)}},
                            )
                            .session(&mut *session)
                            .await?;
                    }
                    Ok(plan.settled)
                })
            })
            .await
    }

    async fn payment(&self, id: Uuid) -> Result<Option<Payment>, StoreError> {
        match self.payments.find_one(doc! {"_id": id.to_string()}).await? {
            Some(d) => Ok(Some(d.into_payment()?)),
            None => Ok(None),
        }
    }

    async fn payments_for_order(&self, order_id: Uuid) -> Result<Vec<Payment>, StoreError> {
        find_sorted(
            &self.payments,
            doc! {"orderId": order_id.to_string()},
            doc! {"createdAt": 1, "_id": 1},
            PaymentDoc::into_payment,
        )
        .await
    }

    async fn abandon_stale(
        &self,
        before: DateTime<Utc>,
        at: DateTime<Utc>,
        traceparent: &str,
    ) -> Result<u64, StoreError> {
        let found = self
            .payments
            .find(doc! {
                "status": {"$in": [PaymentStatus::Pending.as_str(), PaymentStatus::Processing.as_str()]},
                "updatedAt": {"$lt": to_bson_time(before)},
            })
            .await?;
        let mut count = 0;
        for p in decode_all(found, PaymentDoc::into_payment).await? {
            let from = p.status;
            let Some((failed, fact)) = ledger::abandon(p, at, traceparent)? else {
                continue;
            };
            let changed = self
                .db
                .tx()
                .run(self, |store, session| {
                    let (failed, fact) = (failed.clone(), fact.clone());
                    Box::pin(async move {
                        if !store
                            .replace_payment_in(&mut *session, &failed, from)
                            .await?
                        {
                            return Ok(false);
                        }
                        store
                            .db
                            .insert_facts(&mut *session, fact.as_slice())
                            .await?;
                        Ok(true)
                    })
                })
                .await?;
            count += u64::from(changed);
        }
        Ok(count)
    }

    async fn claim_key(&self, claim: &KeyClaim) -> Result<ClaimOutcome, StoreError> {
        let owner = KeyOwner::new(claim.user_id, &claim.key);
        let id = owner.id.clone();
        let fresh = KeyDoc {
            owner,
            fingerprint: claim.fingerprint.clone(),
            claimed_at: to_bson_time(claim.at),
            response: None,
            created_at: to_bson_time(claim.at),
        };
        match self.keys.insert_one(fresh).await {
            Ok(_) => return Ok(ClaimOutcome::Claimed),
            Err(e) if is_duplicate_key(&e) => {}
            Err(e) => return Err(e.into()),
        }
        let Some(existing) = self.keys.find_one(doc! {"_id": &id}).await? else {
            // Expired and deleted between the two calls: the next attempt will claim it.
            return Ok(ClaimOutcome::InProgress);
        };
        let held = HeldKey {
            fingerprint: existing.fingerprint,
            claimed_at: from_bson_time(existing.claimed_at),
            response: existing.response.map(|r| StoredResponse {
                status: u16::try_from(r.status).unwrap_or(500),
                body: r.body,
            }),
        };
        if let OnHeldKey::Outcome(outcome) = claim.on_held(held) {
            return Ok(outcome);
        }
        // Taken over only if still unanswered and stale: a concurrent claim may have won.
        let taken_over = self
            .keys
            .find_one_and_update(
                doc! {"_id": &id, "response": null, "claimedAt": {"$lt": to_bson_time(claim.stale_before)}},
                doc! {"$set": {"claimedAt": to_bson_time(claim.at)}},
            )
            .await?;
        Ok(if taken_over.is_some() {
            ClaimOutcome::Claimed
        } else {
            ClaimOutcome::InProgress
        })
    }

    async fn answer_key(&self, key: &KeyRef, response: &StoredResponse) -> Result<(), StoreError> {
        self.keys
            .update_one(
                doc! {"_id": KeyOwner::id(key.user_id, &key.key)},
                doc! {"$set": {"response": response_doc(response)}},
            )
            .await?;
        Ok(())
    }

    async fn release_key(&self, key: &KeyRef) -> Result<(), StoreError> {
        self.keys
            .delete_one(doc! {"_id": KeyOwner::id(key.user_id, &key.key), "response": null})
            .await?;
        Ok(())
    }

    async fn purge_keys(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let result = self
            .keys
            .delete_many(doc! {"createdAt": {"$lt": to_bson_time(before)}})
            .await?;
        Ok(result.deleted_count)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.db.ping().await
    }

    fn outbox(&self) -> Arc<dyn OutboxStore> {
        self.db.outbox()
    }
}
